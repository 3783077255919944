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
