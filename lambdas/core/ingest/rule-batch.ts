// A batch of one rule's messages, as its stream delivers them: refusals go to the error sink and never fail the
// batch; a transient store failure fails only the messages it touched, which the stream then redelivers.
import type { Ports } from './ingest-ports.js';
import {
  acceptMetering,
  acceptWinterRiverStatus,
  powerReport,
  storeMetering,
  storeWinterRiverStatus,
  type AcceptedMetering,
  type AcceptedStatus,
} from './ingest.js';
import { applyStatuses } from '../power-system/controller.js';
import { handleRuleEvent, ingestByHandler, refuse } from './rule-handler.js';
import { mapLimited } from '../common/map-limited.js';
import { splitRuleEvent, type RuleEvent, type RuleHandler } from '../contracts/rules.js';

/** Per message of the batch, in its order: done (stored or refused), or failed and to be retried. */
export type ItemOutcome = { readonly ok: true } | { readonly ok: false; readonly error: Error };

const DONE: ItemOutcome = { ok: true };
/** Devices whose messages are stored at once; each device's own messages stay in order. */
const DEVICE_CONCURRENCY = 16;

const failed = (err: unknown): ItemOutcome => ({
  ok: false,
  error: err instanceof Error ? err : new Error(String(err)),
});

/**
 * Metering: one time-series write for the whole batch and one registry heartbeat per VEN (its newest sample). If
 * that fails, each message is stored on its own, so only the messages whose own writes fail are reported failed.
 * ACKs, Winter River status and presence: message by message as before, in order per device, devices side by side;
 * after a device's message fails, its later messages are left for the retry too (they must not overtake it).
 */
export async function handleRuleBatch(
  handler: RuleHandler,
  events: readonly RuleEvent[],
  ports: Ports,
): Promise<ItemOutcome[]> {
  if (handler === 'metering') return meteringBatch(events, ports);
  if (handler === 'winter-river' && ports.power) return winterRiverBatch(events, ports);
  return perDevice(events, (event) => handleRuleEvent(event, ingestByHandler[handler], ports));
}

/**
 * Winter River: each status stored as before (in order per node), then the power system updated once for the
 * whole batch. If that update fails, every status it carried is retried (storing them again writes nothing new).
 */
async function winterRiverBatch(events: readonly RuleEvent[], ports: Ports): Promise<ItemOutcome[]> {
  const stored: { index: number; value: AcceptedStatus }[] = [];
  const outcomes = await perDevice(events, async (event, index) => {
    const msg = splitRuleEvent(event);
    const accepted = acceptWinterRiverStatus(msg, ports);
    if (!accepted.ok) return refuse(msg, accepted, ports);
    await storeWinterRiverStatus(accepted.value, ports);
    stored.push({ index, value: accepted.value });
  });
  if (stored.length === 0) return outcomes;
  try {
    await applyStatuses(
      ports.power!,
      stored.map((s) => powerReport(s.value)),
    );
  } catch (err) {
    for (const { index } of stored) outcomes[index] = failed(err);
  }
  return outcomes;
}

async function meteringBatch(events: readonly RuleEvent[], ports: Ports): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = events.map(() => DONE);
  const accepted: { index: number; value: AcceptedMetering }[] = [];
  await Promise.all(
    events.map(async (event, index) => {
      const msg = splitRuleEvent(event);
      const result = acceptMetering(msg);
      if (result.ok) accepted.push({ index, value: result.value });
      else await refuse(msg, result, ports).catch((err: unknown) => (outcomes[index] = failed(err)));
    }),
  );
  if (accepted.length === 0) return outcomes;
  accepted.sort((a, b) => a.index - b.index);
  try {
    await storeMetering(
      accepted.map((a) => a.value),
      ports,
    );
  } catch {
    // one message at a time: a record the store refuses becomes that message's refusal, a failing write its failure
    await mapLimited(accepted, DEVICE_CONCURRENCY, async ({ index }) => {
      await handleRuleEvent(events[index]!, ingestByHandler.metering, ports).catch(
        (err: unknown) => (outcomes[index] = failed(err)),
      );
    });
  }
  return outcomes;
}

async function perDevice(
  events: readonly RuleEvent[],
  handle: (event: RuleEvent, index: number) => Promise<unknown>,
): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = events.map(() => DONE);
  const byDevice = new Map<string, number[]>();
  events.forEach((event, index) => {
    const device = deviceOf(event);
    const list = byDevice.get(device);
    if (list) list.push(index);
    else byDevice.set(device, [index]);
  });
  await mapLimited([...byDevice.values()], DEVICE_CONCURRENCY, async (indexes) => {
    for (let i = 0; i < indexes.length; i++) {
      try {
        await handle(events[indexes[i]!]!, indexes[i]!);
      } catch (err) {
        for (const later of indexes.slice(i)) outcomes[later] = failed(err);
        return;
      }
    }
  });
  return outcomes;
}

/** The device a message is about: its sender, or for IoT's own presence events the client they describe. */
function deviceOf(event: RuleEvent): string {
  const { clientId, payload } = splitRuleEvent(event);
  return clientId || String(payload.clientId ?? '');
}
