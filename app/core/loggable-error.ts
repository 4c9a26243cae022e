/** The part of an error that may be written to a log. */
export interface LoggableError {
  class: string;
  code?: string;
  /** PostgreSQL names the schema objects involved: names, never values. */
  table?: string;
  column?: string;
  constraint?: string;
  frames?: string[];
}

const CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
/** A V8 stack frame line, `    at fn (file:line:col)` or `    at file:line:col`, and nothing else. */
const FRAME = /^ {4}at (?:[^\n]* \([^\n]*:\d+:\d+\)|[^\s()]+:\d+:\d+)$/;
const MAX_FRAMES = 10;

/**
 * An error reduced to what a log may carry: its class, its stable code (SQLSTATE, SQLite or errno
 * code) and its stack frames. Never its message or other fields: knex puts the SQL with its bound
 * values in the message, PostgreSQL's `detail` and `where` quote the failing row or JSON, and body
 * parsers attach the raw body. All of that can be patient data.
 */
export function loggableError(err: unknown): LoggableError {
  if (!err || typeof err !== 'object') return { class: typeof err };
  const e = err as { constructor?: { name?: string }; code?: unknown; stack?: unknown } & Record<'table' | 'column' | 'constraint', unknown>;
  const out: LoggableError = { class: e.constructor?.name || 'Object' };
  const code = typeof e.code === 'number' ? String(e.code) : e.code;
  if (typeof code === 'string' && CODE.test(code)) out.code = code;
  for (const name of ['table', 'column', 'constraint'] as const) {
    const value = e[name];
    if (typeof value === 'string' && IDENTIFIER.test(value)) out[name] = value;
  }
  if (typeof e.stack === 'string') {
    // The first lines of a stack repeat the message; only lines shaped like frames are kept.
    const frames = e.stack.split('\n').filter((line) => FRAME.test(line)).slice(0, MAX_FRAMES).map((line) => line.trim());
    if (frames.length) out.frames = frames;
  }
  return out;
}
