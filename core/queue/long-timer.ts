/** setTimeout overflows above 2^31-1 ms (~24.8 days) and fires at once; a yearly cron needs longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type CancelTimer = () => void;

/**
 * Runs `callback` after `delayMs`, re-arming in steps for far-away times. The timer is unref'd:
 * pending work alone must not keep the process alive (close() is what ends work).
 */
export function runAfter(delayMs: number, callback: () => void): CancelTimer {
  let timer: NodeJS.Timeout | undefined;
  const arm = (remainingMs: number): void => {
    const stepMs = Math.min(Math.max(0, remainingMs), MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (remainingMs > stepMs) arm(remainingMs - stepMs);
      else callback();
    }, stepMs);
    timer.unref();
  };
  arm(delayMs);
  return () => clearTimeout(timer);
}
