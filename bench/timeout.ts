// Waits for a promise at most `ms` milliseconds; resolves to undefined on timeout. The
// timer is cleared either way, so nothing is left keeping the process alive.

export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: Timer | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
