/**
 * Waits until `check` passes, re-checking every `everyMs`. For conditions that
 * live in another process or in Postgres, where no event can be awaited;
 * `timeoutMs` is a liveness bound, not a timing assertion.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 15_000, everyMs = 50, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not hold within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Rejects with `what` if the promise takes longer than `ms` (a liveness bound that names the step that hung). */
export function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
