// One-at-a-time execution for async work that must not interleave (a SQLite
// transaction spanning awaits). Work runs in the order it was queued.
export class AsyncMutex {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Runs fn once everything queued before it has finished. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(fn);
    this.#tail = result.then(done, done).then(() => this.#pending--);
    return result;
  }

  /** Runs a synchronous fn now when nothing is queued (the common case), else in turn. */
  runSync<T>(fn: () => T): Promise<T> {
    if (this.#pending > 0) return this.run(fn);
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

function done(): void {}
