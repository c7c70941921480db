// The local stack's stand-in for an EventBridge schedule: a scheduled Lambda's work on an interval, one run at a time
// (a tick while one runs is skipped), a failure logged once per distinct message rather than on every tick.
export interface Schedule {
  /** Runs now, after the run under way if any; rejects with its error. */
  runNow(now?: number): Promise<void>;
  /** Stops the ticks and waits for the run under way. */
  stop(): Promise<void>;
}

export function schedule(
  name: string,
  everyMs: number,
  work: (now?: number) => Promise<unknown>,
  log: (line: string) => void,
): Schedule {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let lastError = '';
  const run = (now?: number) => {
    const pass = running.then(() => work(now));
    running = pass.then(
      () => void (lastError = ''),
      (err: Error) => {
        if (err.message !== lastError) log(`${name}: ${err.message}`);
        lastError = err.message;
      },
    );
    return pass.then(() => undefined);
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    run()
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return {
    runNow: (now) => run(now),
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
