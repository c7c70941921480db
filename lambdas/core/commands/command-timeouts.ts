// Commands nobody answered: every `sent` command past its expiry becomes `timed-out`. The update is conditional on
// `sent`, so an ACK that lands first always wins and a time-out never overwrites it.
import { recordEntry, type LedgerStore } from '../records/ledger.js';
import type { CommandStore } from './command-store.js';

const PAGE = 100;

/** Marks the due commands `timed-out`, each in its target's ledger (pings aside); returns their correlationIds. */
export async function expireCommands(commands: CommandStore, now: number, ledger?: LedgerStore): Promise<string[]> {
  const expired: string[] = [];
  let next: string | undefined;
  do {
    const page = await commands.listDue(now, { limit: PAGE, ...(next && { next }) });
    for (const c of page.items) {
      if (!(await commands.timeOut(c.correlationId, now))) continue;
      expired.push(c.correlationId);
      const command = ledger && (await commands.get(c.correlationId));
      if (command && command.op !== 'ping') {
        const data = { status: 'timed-out', op: command.op };
        await recordEntry(ledger, { nodeId: command.target, type: 'command-outcome', ref: c.correlationId, data }, now);
      }
    }
    next = page.next;
  } while (next);
  return expired;
}
