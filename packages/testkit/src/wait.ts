/** Bounded waits for tests: nothing waits forever. */

export const WAIT_MS = 5_000;

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
}

/** Calls `check` at each wake-up until it holds: `subscribe` adds the wake-up, and gives back its removal. */
export function whenTrue(check: () => boolean, subscribe: (wake: () => void) => () => void, what: string, ms = WAIT_MS): Promise<void> {
  if (check()) return Promise.resolve();
  let unsubscribe: () => void = () => undefined;
  return within(
    new Promise<void>((resolve) => {
      unsubscribe = subscribe(() => {
        if (check()) resolve();
      });
    }),
    what,
    ms,
  ).finally(() => {
    unsubscribe();
  });
}

/** Polls `check` every 200 ms until it holds, for at most `ms`: a bounded wait, not a sleep. */
export async function eventually(check: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
