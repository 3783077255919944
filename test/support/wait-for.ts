/**
 * Polls until `condition` holds, failing with `what` after the deadline: tests wait for what they
 * need, never for a fixed time.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, seen?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; saw ${seen()}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls until `probe` gives a value (anything but undefined) and returns it, failing with `what` after the deadline. */
export async function waitForValue<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000, seen?: () => string): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => (value = await probe()) !== undefined, what, timeoutMs, seen);
  return value as T;
}

/**
 * Retries `check`, a block of assertions, until it passes; after the deadline its last failure is thrown as
 * is, so the test reports the assertion that never came true (backends may apply writes asynchronously).
 */
export async function waitUntilPasses(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  let lastFailure: unknown;
  const passes = async (): Promise<boolean> => {
    try {
      await check();
      return true;
    } catch (error) {
      lastFailure = error;
      return false;
    }
  };
  try {
    await waitFor(passes, "the check to pass", timeoutMs);
  } catch (timeout) {
    throw lastFailure ?? timeout;
  }
}
