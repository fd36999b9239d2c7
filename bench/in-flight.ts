/**
 * Runs `task(0..total-1)` with at most `width` calls in flight: `width` loops, each awaiting its
 * call before taking the next index. This is a concurrency-limited producer, as an app serving
 * `width` requests at once would be, not a fire-and-forget burst.
 */
export async function runInFlight(total: number, width: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, total) }, loop));
}
