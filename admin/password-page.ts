// The password-change page: a plain form (no script), so it needs no bundled component.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function passwordPage(opts: { email: string; error?: string; done?: boolean }): string {
  const notice = opts.done
    ? '<p class="ok" role="status">Your password was changed.</p>'
    : opts.error
      ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Change password</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f6f7fb;margin:0;padding:2rem}
main{max-width:26rem;margin:auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1.5rem;padding:.6rem 1.2rem}.error{color:#b00020}.ok{color:#146c2e}
</style></head>
<body><main>
<h1>Change password</h1>
<p>Signed in as ${escapeHtml(opts.email)}. <a href="/admin">Back to the back office</a></p>
${notice}
<form method="post" action="/admin/account/password">
<label>Current password <input type="password" name="current_password" autocomplete="current-password" required></label>
<label>New password (at least 10 characters) <input type="password" name="new_password" autocomplete="new-password" minlength="10" required></label>
<label>Repeat the new password <input type="password" name="confirm_password" autocomplete="new-password" minlength="10" required></label>
<button type="submit">Change password</button>
</form>
</main></body></html>
`;
}
