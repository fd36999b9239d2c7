/**
 * Polls `check` every `everyMs` until it returns true; false when `timeoutMs` passes first. For
 * states that only a query can observe (a store's count of unfinished jobs).
 */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
