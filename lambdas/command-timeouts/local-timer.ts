// The local stack's stand-in for the EventBridge schedule: the same sweep on an interval, one run at a time.
import type { LedgerStore } from '../core/ledger.js';
import type { CommandStore } from '../core/ports.js';
import { sweepCommands } from './handler.js';

export interface CommandSweep {
  stop(): Promise<void>;
}

export function startCommandSweep(commands: CommandStore, ledger: LedgerStore, everyMs: number, log: (line: string) => void): CommandSweep {
  let running: Promise<void> | undefined;
  let lastError = '';
  const run = async () => {
    try {
      await sweepCommands(commands, ledger);
      lastError = '';
    } catch (err) {
      // Logged once per distinct failure, not on every tick.
      if ((err as Error).message !== lastError) log(`command time-outs: ${(err as Error).message}`);
      lastError = (err as Error).message;
    } finally {
      running = undefined;
    }
  };
  const timer = setInterval(() => {
    running ??= run();
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
