// Commands nobody answered: every `sent` command past its expiry becomes `timed-out`. The update is conditional on
// `sent`, so an ACK that lands first always wins and a time-out never overwrites it.
import type { CommandStore } from './ports.js';

const PAGE = 100;

/** Marks the due commands `timed-out`; returns their correlationIds. */
export async function expireCommands(commands: CommandStore, now: number): Promise<string[]> {
  const expired: string[] = [];
  let next: string | undefined;
  do {
    const page = await commands.listDue(now, { limit: PAGE, ...(next && { next }) });
    for (const c of page.items) if (await commands.timeOut(c.correlationId, now)) expired.push(c.correlationId);
    next = page.next;
  } while (next);
  return expired;
}
