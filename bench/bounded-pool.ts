// Runs an async job for every item with at most `limit` in flight; stops starting new
// ones after the first failure or once the deadline (performance.now() ms) has passed.

export async function forEachBounded<T>(items: readonly T[], limit: number, deadline: number, job: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: Error | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (performance.now() > deadline) {
        failure = new Error(`time budget used up after ${next} of ${items.length}`);
        return;
      }
      const i = next++;
      try {
        await job(items[i]!, i);
      } catch (e) {
        failure ??= e as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure;
}
