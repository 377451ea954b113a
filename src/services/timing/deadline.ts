/** What `withDeadline` resolves when the work did not settle in time. */
export const TIMED_OUT = Symbol('timed out');

/**
 * The work's result, or TIMED_OUT once `ms` have passed: the one timeout race, used wherever a wait
 * is bounded. The timer never outlives the race, and never keeps the process up on its own (a
 * shutdown's bounded wait must not hold an exit).
 */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms).unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
