// The local stack's stand-in for the EventBridge schedule: the rollup pass on an interval, one run at a time.
import type { PassPorts } from '../core/rollup-pass.js';
import { rollupPass } from './handler.js';

export interface RollupTimer {
  stop(): Promise<void>;
  /** Runs a pass now (after the one under way, if any); rejects with its error. */
  runNow(now?: number): Promise<void>;
}

export function startRollupTimer(ports: PassPorts, everyMs: number, log: (line: string) => void): RollupTimer {
  let running: Promise<void> = Promise.resolve();
  let lastError = '';
  let busy = false;
  const run = (now?: number) => {
    const pass = running.then(() => rollupPass(ports, now));
    running = pass.then(
      () => void (lastError = ''),
      (err: Error) => {
        // logged once per distinct failure, not on every tick
        if (err.message !== lastError) log(`rollups: ${err.message}`);
        lastError = err.message;
      },
    );
    return pass.then(() => undefined);
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    run().catch(() => undefined).finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
    runNow: (now) => run(now),
  };
}
