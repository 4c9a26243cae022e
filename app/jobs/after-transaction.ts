import type { Knex } from 'knex';

/**
 * Runs `fn` once `trx` has settled (at once without one). knex resolves a transaction's
 * executionPromise on commit but also on a rollback without an error, so `fn` must not trust
 * that the row exists: the runners re-read it, and a change notice after a rollback merely drops
 * a cache once too often.
 */
export function afterTransaction(trx: Knex.Transaction | undefined, fn: () => void): void {
  if (!trx) {
    fn();
    return;
  }
  trx.executionPromise.then(fn, fn);
}
