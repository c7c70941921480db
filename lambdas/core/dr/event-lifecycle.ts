// A fleet event's life after it is created: a scheduled one started by the housekeeping sweep at its time (its VENs
// offline then left out, named), or cancelled before (nothing sent, nothing settled); a running one ended early (each
// VEN still committed sent its restore, `endsAt` now: measured and settled over what ran).
import { eventCommand, restoreCommand, sendCommand, type CommandContext } from '../commands/commands.js';
import { ConflictError, NotFoundError } from '../contracts/errors.js';
import { logger } from '../common/logger.js';
import { mapLimited } from '../common/map-limited.js';
import { recordEntry } from '../records/ledger.js';
import { kw } from '../analytics/baseline.js';
import type { FleetEventPorts } from './fleet-event.js';
import { fleetEventStatus, type FleetEventRecord } from './fleet-event-store.js';
import { SETTLEMENT_LOOKBACK_MS } from './settlement.js';

/** Commands sent (or commitments given back) at once. */
const PARALLEL = 16;

export type LifecyclePorts = Pick<FleetEventPorts, 'fleetEvents' | 'commands' | 'publisher' | 'ledger' | 'registry'>;

async function eventOf(ports: Pick<LifecyclePorts, 'fleetEvents'>, eventId: string) {
  const event = await ports.fleetEvents.get(eventId);
  if (!event) throw new NotFoundError(`event ${eventId}`);
  return event;
}

/** The VENs an end sends a restore: those allocated and not restored already. */
const stillCommitted = (event: FleetEventRecord) =>
  event.allocations.filter((a) => event.released?.[a.venId] === undefined);

/** `POST /api/events/{eventId}/end`: 409 unless running. A dry run says what would be sent; nothing changes. */
export async function endFleetEvent(eventId: string, ports: LifecyclePorts, ctx: CommandContext, dryRun = false) {
  const event = await eventOf(ports, eventId);
  const status = fleetEventStatus(event, ctx.now);
  if (status === 'scheduled')
    throw new ConflictError(`event ${eventId} has not started (it starts ${iso(event.startedAt)}): cancel it instead`);
  if (status !== 'running') throw new ConflictError(`event ${eventId} is ${status}: only a running event can be ended`);
  const vens = stillCommitted(event);
  const head = { eventId, name: event.name ?? null, endsAt: iso(ctx.now) };
  if (dryRun)
    return { dry_run: true, ...head, status: 'running' as const, restore: vens.map((a) => ({ venId: a.venId })) };
  if (!(await ports.fleetEvents.end(eventId, ctx.now)))
    throw new ConflictError(`event ${eventId} was not running at ${iso(ctx.now)} (ended or cancelled meanwhile)`);
  const sent = await mapLimited(vens, PARALLEL, async (a) => {
    const correlationId = ctx.newId();
    try {
      await sendCommand(ports, a.venId, restoreCommand(correlationId), ctx, { fleetEventId: eventId });
      return { venId: a.venId, correlationId, status: 'sent' as const };
    } catch (err) {
      logger.error('restore at event end failed', { eventId, venId: a.venId, error: err as Error });
      return { venId: a.venId, correlationId, status: 'failed' as const };
    } finally {
      await ports.fleetEvents.uncommit(a.venId, eventId);
    }
  });
  logger.info('fleet event ended early', { eventId, restores: sent.length });
  return { ...head, status: 'ended' as const, restore: sent };
}

/** `POST /api/events/{eventId}/cancel`: a scheduled event only (409 otherwise). Its VENs freed, a ledger entry each. */
export async function cancelFleetEvent(eventId: string, ports: LifecyclePorts, now: number, dryRun = false) {
  const event = await eventOf(ports, eventId);
  const status = fleetEventStatus(event, now);
  if (status === 'running') throw new ConflictError(`event ${eventId} is running: end it instead`);
  if (status !== 'scheduled')
    throw new ConflictError(`event ${eventId} is ${status}: only a scheduled event can be cancelled`);
  const head = {
    eventId,
    name: event.name ?? null,
    start: iso(event.startedAt),
    vens: event.allocations.map((a) => a.venId),
  };
  if (dryRun) return { dry_run: true, ...head, status: 'scheduled' as const };
  if (!(await ports.fleetEvents.cancel(eventId, now)))
    throw new ConflictError(`event ${eventId} started or was cancelled meanwhile`);
  await mapLimited(event.allocations, PARALLEL, async (a) => {
    await ports.fleetEvents.uncommit(a.venId, eventId);
    await recordEntry(
      ports.ledger,
      {
        nodeId: a.venId,
        type: 'dr-event',
        ref: eventId,
        data: { fleetEventId: eventId, cancelled: true, shed_kw: a.shed_kw },
      },
      now,
    );
  });
  logger.info('fleet event cancelled', { eventId, vens: event.allocations.length });
  return { ...head, status: 'cancelled' as const };
}

/**
 * Starts every scheduled event whose time has come (the housekeeping sweep, each run): its VENs online now are sent
 * their commands for what is left of the window, the others left out (`offline at the start`) and freed. An event the
 * sweep never reached in its window is cancelled (nothing was sent). The ids started.
 */
export async function startDueEvents(ports: LifecyclePorts, ctx: CommandContext): Promise<string[]> {
  const started: string[] = [];
  let next: string | undefined;
  walk: do {
    const page = await ports.fleetEvents.list({
      limit: 100,
      since: ctx.now - SETTLEMENT_LOOKBACK_MS,
      ...(next && { next }),
    });
    for (const event of page.items) {
      if (event.startedAt < ctx.now - SETTLEMENT_LOOKBACK_MS) break walk;
      const due =
        event.scheduled &&
        event.launchedAt === undefined &&
        event.cancelledAt === undefined &&
        event.startedAt <= ctx.now;
      if (!due) continue;
      if (ctx.now >= event.endsAt) {
        logger.error('scheduled event never started in its window: cancelled', { eventId: event.eventId });
        await cancelFleetEvent(event.eventId, ports, event.endsAt - 1);
        continue;
      }
      if (await launchScheduled(event, ports, ctx)) started.push(event.eventId);
    }
    next = page.next;
  } while (next);
  return started;
}

async function launchScheduled(event: FleetEventRecord, ports: LifecyclePorts, ctx: CommandContext): Promise<boolean> {
  const online = await mapLimited(
    event.allocations,
    PARALLEL,
    async (a) => (await ports.registry.get(a.venId))?.online === true,
  );
  const sending = event.allocations.filter((_, i) => online[i]);
  const left = event.allocations.filter((_, i) => !online[i]);
  const excluded = [...event.excluded, ...left.map((a) => ({ venId: a.venId, reason: 'offline at the start' }))];
  const shortfall = kw(event.shortfall_kw + left.reduce((s, a) => s + (a.expected_kw ?? a.shed_kw), 0)) ?? 0;
  // claimed first: of two sweeps racing, one sends
  if (
    !(await ports.fleetEvents.launch(event.eventId, ctx.now, {
      allocations: sending,
      excluded,
      shortfall_kw: shortfall,
    }))
  )
    return false;
  await mapLimited(left, PARALLEL, (a) => ports.fleetEvents.uncommit(a.venId, event.eventId));
  const remainingSec = Math.max(1, Math.round((event.endsAt - ctx.now) / 1000));
  const sent = await Promise.allSettled(
    sending.map((a) =>
      sendCommand(ports, a.venId, eventCommand(event.eventId, a.shed_kw, remainingSec, a.correlationId), ctx, {
        fleetEventId: event.eventId,
      }),
    ),
  );
  const failed = sent.filter((s) => s.status === 'rejected').length;
  logger.info('scheduled event started', {
    eventId: event.eventId,
    sent: sending.length - failed,
    failed,
    offline: left.map((a) => a.venId),
  });
  return true;
}

const iso = (ms: number) => new Date(ms).toISOString();
