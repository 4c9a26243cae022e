import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A pino logger that keeps every line in memory, for tests that check what reaches the logs. */
export function captureLogs(level = 'info'): { logger: Logger; lines: () => string[]; entries: () => Record<string, any>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    lines: () => [...lines],
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, any>),
  };
}
