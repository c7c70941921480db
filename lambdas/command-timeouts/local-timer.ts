// The local stack's stand-in for the EventBridge schedule: the same housekeeping on an interval, one run at a time.
import type { SettlementPorts } from '../core/settlement.js';
import { housekeeping } from './handler.js';

export interface Housekeeping {
  stop(): Promise<void>;
}

export function startHousekeeping(ports: SettlementPorts, everyMs: number, settlementGraceMs: number, log: (line: string) => void): Housekeeping {
  let running: Promise<void> | undefined;
  let lastError = '';
  const run = async () => {
    try {
      await housekeeping(ports, Date.now(), settlementGraceMs);
      lastError = '';
    } catch (err) {
      // Logged once per distinct failure, not on every tick.
      if ((err as Error).message !== lastError) log(`housekeeping: ${(err as Error).message}`);
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
