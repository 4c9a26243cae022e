// The browsable API reference at /api/docs: swagger-ui served from the local `swagger-ui-dist`
// package (no CDN). The server serves the package's files under /api/docs/.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Where the swagger-ui assets live on disk (the `swagger-ui-dist` package folder). */
export function swaggerUiDistPath(): string {
  // `swagger-ui-dist` is CommonJS; its index also requires the 1.5 MB browser bundle, so load only
  // the small helper that resolves the folder.
  const getAbsoluteFSPath = require('swagger-ui-dist/absolute-path.js') as () => string;
  return getAbsoluteFSPath();
}

/** Embeds a value in an inline script safely (no `</script>` or HTML comment can break out). */
function scriptLiteral(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The page's one inline script: starts swagger-ui on the document at `specUrl`. */
function initScript(specUrl: string): string {
  // validatorUrl: null, or swagger-ui would send the document's URL to validator.swagger.io.
  return `
    window.addEventListener('load', function () {
      window.ui = SwaggerUIBundle({
        url: ${scriptLiteral(specUrl)},
        dom_id: '#swagger-ui',
        deepLinking: true,
        persistAuthorization: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: 'StandaloneLayout'
      });
    });
  `;
}

/**
 * The page's Content-Security-Policy directives (helmet's names). Scripts: this origin and the
 * inline start-up script by its hash, nothing else. Styles may be inline: swagger-ui sets style
 * attributes. `publicUrl`, when it names another origin, is where "Try it out" sends requests.
 */
export function docsPageDirectives(specUrl: string, publicUrl?: string): Record<string, string[]> {
  const initHash = `'sha256-${createHash('sha256').update(initScript(specUrl)).digest('base64')}'`;
  let apiOrigin: string | undefined;
  try {
    apiOrigin = publicUrl ? new URL(publicUrl).origin : undefined;
  } catch {
    apiOrigin = undefined; // a relative PUBLIC_URL is this origin
  }
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'", initHash],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'", ...(apiOrigin && apiOrigin !== 'null' ? [apiOrigin] : [])],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}

/** The HTML page of the API reference, loading the document from `specUrl`. */
export function docsHtml(specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>EMR Platform API reference</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png" sizes="32x32">
  <style>
    html { box-sizing: border-box; overflow-y: scroll; }
    *, *::before, *::after { box-sizing: inherit; }
    body { margin: 0; background: #fafafa; }
  </style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/api/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>${initScript(specUrl)}</script>
</body>
</html>
`;
}
