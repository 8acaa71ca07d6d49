// How the SQLite store's parts run a statement: in turn with any transaction in
// progress (the whole store), or at once (inside that transaction).
export type SqliteGate = <T>(fn: () => T) => Promise<T>;

/** Inside a transaction the statements are the transaction's own: run them at once. */
export const direct: SqliteGate = (fn) => {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
};
