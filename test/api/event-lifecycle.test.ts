// A fleet event's life cycle through the local stack, with real VENs on the device SDK: scheduled ahead (its VENs held
// for its window, nothing sent) and started by the housekeeping sweep at its time (driven here with a clock), a VEN
// offline then left out and named; cancelled before it starts (nothing sent, its VENs free, a ledger entry each);
// ended while it runs (each VEN sent its restore, `endsAt` now, then settled); the list with names, statuses and
// results, single-VEN events among them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { housekeeping } from '../../lambdas/command-timeouts/handler.js';
import { cancelEventResponseSchema, endEventResponseSchema } from '../../lambdas/api/event-lifecycle.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import type { FleetEventRecord } from '../../lambdas/core/dr/fleet-event-store.js';
import { settleDueEvents } from '../../lambdas/core/dr/settlement.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { nowSec, post, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
const vens: Record<string, TestDevice> = {};

/** 3 kW sheddable at priority 2. */
const metering = (venId: string, timestamp: number, usedPowerKw = 7) => ({
  venId,
  timestamp,
  usedPowerKw,
  baselinePowerKw: 10,
  loads: [{ loadId: 'hvac', currentPowerKw: 3, shedCapabilityKw: 3, enabled: true, priority: 2 }],
});

async function connectVen(venId: string) {
  vens[venId] = await connectDevice(await stack.provision(venId), venId);
  await vens[venId]!.subscribe(topics.command(venId));
  await vens[venId]!.publish(topics.metering, JSON.stringify(metering(venId, nowSec())));
  await eventually(
    async () =>
      (await stack.api(`/api/vens/${venId}`)).body?.online === true &&
      (await stack.api(`/api/vens/${venId}`)).body?.latest?.availableShedKw === 3,
  );
}

beforeAll(async () => {
  stack = await startApiStack();
  for (const id of ['ven-a', 'ven-b', 'ven-c', 'ven-d']) await connectVen(id);
}, 60_000);

afterAll(async () => {
  for (const v of Object.values(vens)) await v.close();
  await stack?.dispose();
});

const ops = (venId: string) =>
  vens[venId]!.received.map((m) => JSON.parse(m.payload) as { op: string; event_id?: string; duration_sec?: number });
const inMinutes = (min: number) => new Date(Date.now() + min * 60_000).toISOString();
const listed = async (eventId: string) =>
  ((await stack.api('/api/events?limit=100')).body.items as any[]).find((e) => e.eventId === eventId);
/** The listing is an index query, eventually consistent as in AWS: the event as listed once it shows (with `status`). */
const shown = (eventId: string, status?: string) =>
  eventually(async () => {
    const e = await listed(eventId);
    return e !== undefined && (status === undefined || e.status === status) && e;
  });
const ledgerOf = async (venId: string) => (await stack.api(`/api/transactions/${venId}?limit=100`)).body.items as any[];

async function postKeyed(path: string, body: unknown, key: string, token = stack.config.tokens.operator) {
  const res = await fetch(`${stack.config.apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), replayed: res.headers.get('idempotent-replayed') === 'true' };
}

describe('a scheduled event', () => {
  it('refuses a start less than a minute or more than 7 days ahead, or not a time, and a bad name, naming the field', async () => {
    for (const start_at of [inMinutes(0.5), inMinutes(7 * 24 * 60 + 5), 'tomorrow 5pm', '2026-12-08T17:00:00']) {
      expect(await stack.api('/api/events', post({ shed_kw: 3, duration_sec: 600, start_at }))).toMatchObject({
        status: 400,
        body: { field: 'start_at' },
      });
    }
    expect(await stack.api('/api/events', post({ shed_kw: 3, duration_sec: 600, name: 'x'.repeat(81) }))).toMatchObject(
      { status: 400, body: { field: 'name' } },
    );
    expect((await stack.api('/api/events?limit=100')).body.items).toEqual([]);
  });

  it('holds its VENs for its window, sends nothing, and is started by the sweep at its time, an offline VEN left out', async () => {
    const start_at = inMinutes(30);
    const res = await stack.api(
      '/api/events',
      post({ shed_kw: 6, duration_sec: 600, ven_ids: ['ven-a', 'ven-b'], start_at, name: 'Evening peak' }),
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ name: 'Evening peak', status: 'scheduled', start: start_at, allocated_kw: 6 });
    expect(res.body.allocations.map((a: any) => [a.venId, a.status])).toEqual([
      ['ven-a', 'scheduled'],
      ['ven-b', 'scheduled'],
    ]);
    const { eventId } = res.body;
    expect(await shown(eventId)).toMatchObject({
      name: 'Evening peak',
      kind: 'fleet',
      status: 'scheduled',
      result: null,
      measured_shed_kw: null,
    });
    expect((await stack.api(`/api/events/${eventId}`)).body).toMatchObject({
      status: 'scheduled',
      vens: [],
      intervals: [],
      planned: [{ venId: 'ven-a' }, { venId: 'ven-b' }],
    });

    // an event now that ends before it takes the VENs; one reaching into its window finds nothing left (409)
    const overlapping = await stack.api(
      '/api/events',
      post({ shed_kw: 3, duration_sec: 3600, ven_ids: ['ven-a', 'ven-b'] }),
    );
    expect(overlapping.status).toBe(409);
    expect(overlapping.body.message).toContain(`committed to ${eventId}`);
    const before = await stack.api('/api/events', post({ shed_kw: 3, duration_sec: 60, ven_ids: ['ven-a'] }));
    expect(before.status).toBe(202);
    expect((await stack.api('/api/vens/ven-a/restore', post({}))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(ops('ven-b')).toEqual([]);

    // ven-b drops out before the start
    await vens['ven-b']!.close();
    delete vens['ven-b'];
    await eventually(async () => (await stack.api('/api/vens/ven-b')).body?.online === false);

    const startAt = Date.parse(start_at);
    await housekeeping(stack.ports, startAt - 1000); // a second early: nothing
    expect((await listed(eventId)).status).toBe('scheduled');
    const runAt = startAt + 60_000; // a minute late: the VEN gets what is left of the window
    const run = await housekeeping(stack.ports, runAt);
    expect(run.started).toBe(1);
    // at once, within the index's lag: a second sweep, or two racing, still list it as not started and are refused by
    // the conditional start on the item, so it is started no second time
    expect(
      (await Promise.all([housekeeping(stack.ports, runAt + 1000), housekeeping(stack.ports, runAt + 1000)])).map(
        (r) => r.started,
      ),
    ).toEqual([0, 0]);
    await eventually(() => ops('ven-a').some((c) => c.event_id === eventId));
    expect(ops('ven-a').find((c) => c.event_id === eventId)).toMatchObject({
      op: 'event',
      shed_kw: 3,
      duration_sec: 540,
    });
    const event = (await stack.ports.fleetEvents.get(eventId))!;
    expect(event).toMatchObject({ launchedAt: runAt, allocations: [{ venId: 'ven-a' }], shortfall_kw: 3 });
    expect(event.excluded).toContainEqual({ venId: 'ven-b', reason: 'offline at the start' });
    // each VEN with whether it is online now
    const [a] = (await stack.api(`/api/events/${eventId}`)).body.vens;
    expect(a).toMatchObject({ venId: 'ven-a', online: true });
    // and later ones neither
    expect((await housekeeping(stack.ports, runAt + 2000)).started).toBe(0);
    expect(ops('ven-a').filter((c) => c.event_id === eventId)).toHaveLength(1);
    // ven-b is free again, ven-a held for the window
    expect((await stack.ports.fleetEvents.commitments(['ven-a', 'ven-b'], runAt + 1000)).get('ven-a')?.eventId).toBe(
      eventId,
    );
    expect((await stack.ports.fleetEvents.commitments(['ven-b'], runAt + 1000)).size).toBe(0);
  });

  it("is started by the stack's own sweep, on its deployed grants", async () => {
    // made straight in the store, a moment ahead (the API asks for a minute): the sweep every 200 ms starts it
    const now = Date.now();
    const event: FleetEventRecord = {
      eventId: `evt-soon-${randomUUID()}`,
      name: 'Soon',
      requested_kw: 3,
      duration_sec: 60,
      startedAt: now + 500,
      endsAt: now + 60_500,
      scheduled: true,
      allocations: [{ venId: 'ven-c', shed_kw: 3, correlationId: randomUUID() }],
      shortfall_kw: 0,
      excluded: [],
    };
    expect(
      await stack.ports.fleetEvents.commit(
        { venId: 'ven-c', eventId: event.eventId, since: event.startedAt, until: event.endsAt, shed_kw: 3 },
        now,
      ),
    ).toBeUndefined();
    expect(await stack.ports.fleetEvents.create(event)).toBe(true);
    await eventually(() => ops('ven-c').some((c) => c.event_id === event.eventId));
    expect((await shown(event.eventId, 'running')).status).toBe('running');
    expect((await stack.api('/api/vens/ven-c/restore', post({}))).status).toBe(202);
    // a VEN that drops out is shown offline now beside what it did then
    await vens['ven-c']!.close();
    delete vens['ven-c'];
    await eventually(async () => (await stack.api(`/api/events/${event.eventId}`)).body.vens[0]?.online === false);
  });
});

describe('cancel', () => {
  it('cancels a scheduled event: a dry run changes nothing, then nothing is sent, its VENs are free, a ledger entry each', async () => {
    const start_at = inMinutes(120);
    const { eventId } = (
      await stack.api('/api/events', post({ shed_kw: 3, duration_sec: 600, ven_ids: ['ven-d'], start_at }))
    ).body;
    const dry = await stack.api(`/api/events/${eventId}/cancel`, post({ dry_run: true }));
    expect(dry).toMatchObject({ status: 200, body: { dry_run: true, eventId, status: 'scheduled', vens: ['ven-d'] } });
    expect(cancelEventResponseSchema.parse(dry.body)).toBeTruthy();
    expect((await shown(eventId)).status).toBe('scheduled');

    const key = randomUUID();
    const cancelled = await postKeyed(`/api/events/${eventId}/cancel`, {}, key);
    expect(cancelled).toMatchObject({
      status: 200,
      replayed: false,
      body: { eventId, status: 'cancelled', start: start_at, vens: ['ven-d'] },
    });
    expect(cancelEventResponseSchema.parse(cancelled.body)).toBeTruthy();
    // a retry with its key answers the same; without, 409
    expect(await postKeyed(`/api/events/${eventId}/cancel`, {}, key)).toEqual({ ...cancelled, replayed: true });
    expect(await stack.api(`/api/events/${eventId}/cancel`, post({}))).toMatchObject({
      status: 409,
      body: { message: expect.stringContaining('cancelled') },
    });
    expect(await shown(eventId, 'cancelled')).toMatchObject({ status: 'cancelled', result: null });
    expect((await ledgerOf('ven-d')).filter((e) => e.ref === eventId)).toEqual([
      expect.objectContaining({ type: 'dr-event', data: { fleetEventId: eventId, cancelled: true, shed_kw: 3 } }),
    ]);
    // its window is free: another event over it takes ven-d; the sweep at its time sends nothing for it
    expect((await stack.ports.fleetEvents.commitments(['ven-d'], Date.parse(start_at))).size).toBe(0);
    await housekeeping(stack.ports, Date.parse(start_at) + 1000);
    expect(ops('ven-d').filter((c) => c.event_id === eventId)).toEqual([]);
    expect((await listed(eventId)).status).toBe('cancelled');
    // and it is never settled
    await settleDueEvents(stack.ports, Date.parse(start_at) + 3_600_000, 0);
    expect((await stack.ports.fleetEvents.get(eventId))?.settledAt).toBeUndefined();
  });

  it('refuses a running event (end it instead), an unknown one (404), and a viewer (403)', async () => {
    const { eventId } = (await stack.api('/api/events', post({ shed_kw: 3, duration_sec: 600, ven_ids: ['ven-d'] })))
      .body;
    expect(await stack.api(`/api/events/${eventId}/cancel`, post({}))).toMatchObject({
      status: 409,
      body: { message: `event ${eventId} is running: end it instead` },
    });
    expect(await stack.api(`/api/events/${eventId}/cancel`, post({ dry_run: true }))).toMatchObject({ status: 409 });
    expect((await stack.api('/api/events/evt-nope/cancel', post({}))).status).toBe(404);
    expect(
      (await stack.api(`/api/events/${eventId}/cancel`, { ...post({}), token: stack.config.tokens.viewer })).status,
    ).toBe(403);
    expect(
      (await stack.api(`/api/events/${eventId}/end`, { ...post({}), token: stack.config.tokens.viewer })).status,
    ).toBe(403);
    expect(await stack.api(`/api/events/${eventId}/cancel`, post({ dryRun: true }))).toMatchObject({
      status: 400,
      body: { field: 'dryRun' },
    });
    expect((await stack.api('/api/vens/ven-d/restore', post({}))).status).toBe(202);
  });
});

describe('end', () => {
  it('ends a running event now: each VEN sent its restore, endsAt now, measured over what ran and settled', async () => {
    const res = await stack.api('/api/events', post({ shed_kw: 3, duration_sec: 3600, ven_ids: ['ven-d'] }));
    const { eventId } = res.body;
    await eventually(() => ops('ven-d').some((c) => c.event_id === eventId));
    await vens['ven-d']!.publish(topics.metering, JSON.stringify(metering('ven-d', nowSec() + 1, 4)));
    await stack.settle();

    const dry = await stack.api(`/api/events/${eventId}/end`, post({ dry_run: true }));
    expect(dry).toMatchObject({
      status: 200,
      body: { dry_run: true, eventId, status: 'running', restore: [{ venId: 'ven-d' }] },
    });
    expect(endEventResponseSchema.parse(dry.body)).toBeTruthy();
    expect(ops('ven-d').filter((c) => c.op === 'restore')).toHaveLength(1); // the one after the cancel test, none more

    await new Promise((r) => setTimeout(r, 1100));
    const key = randomUUID();
    const ended = await postKeyed(`/api/events/${eventId}/end`, {}, key);
    expect(ended).toMatchObject({
      status: 202,
      body: { eventId, status: 'ended', restore: [{ venId: 'ven-d', status: 'sent' }] },
    });
    expect(endEventResponseSchema.parse(ended.body)).toBeTruthy();
    expect(await postKeyed(`/api/events/${eventId}/end`, {}, key)).toEqual({ ...ended, replayed: true });
    await eventually(() => ops('ven-d').filter((c) => c.op === 'restore').length === 2);
    expect(await stack.api(`/api/events/${eventId}/end`, post({}))).toMatchObject({
      status: 409,
      body: { message: expect.stringContaining('is ended') },
    });

    const endsAt = Date.parse(ended.body.endsAt);
    const event = (await stack.ports.fleetEvents.get(eventId))!;
    expect(event).toMatchObject({ endsAt, endedAt: endsAt });
    const { correlationId } = ended.body.restore[0];
    expect((await ledgerOf('ven-d')).find((e) => e.ref === correlationId)).toMatchObject({
      type: 'command',
      data: { command: { op: 'restore' }, fleetEventId: eventId },
    });
    // measured up to the end: one interval, closed, judged on its readings
    const report = (await stack.api(`/api/events/${eventId}`)).body;
    expect(report).toMatchObject({ status: 'ended', end: ended.body.endsAt, ended_early_at: ended.body.endsAt });
    expect(report.intervals).toHaveLength(1);
    expect(report.intervals[0].end).toBe(ended.body.endsAt);
    expect(report.intervals[0].result).not.toBe('running');
    expect(report.intervals[0]).toMatchObject({
      samples: 1,
      expected_samples: expect.any(Number),
      coverage: expect.any(Number),
    });
    // free for the next event at once
    expect((await stack.ports.fleetEvents.commitments(['ven-d'], Date.now())).size).toBe(0);

    // the settlement sweep finds due events in the index: the end shows there within the lag (a run before settles it next time)
    await shown(eventId, 'ended');
    await settleDueEvents(stack.ports, endsAt + 1000, 1000);
    const settled = await shown(eventId, 'settled');
    expect(settled).toMatchObject({
      status: 'settled',
      result: report.result,
      measured_shed_kw: report.measured_shed_kw,
    });
    expect(settled.result).not.toBeNull();
  });

  it('refuses a scheduled event (cancel it instead)', async () => {
    const { eventId } = (
      await stack.api(
        '/api/events',
        post({ shed_kw: 3, duration_sec: 600, ven_ids: ['ven-d'], start_at: inMinutes(200) }),
      )
    ).body;
    expect(await stack.api(`/api/events/${eventId}/end`, post({}))).toMatchObject({
      status: 409,
      body: { message: expect.stringContaining('cancel it instead') },
    });
  });
});

describe('GET /api/events', () => {
  it("lists single-VEN events beside the fleet's, marked, with a readable name", async () => {
    const sent = await stack.api('/api/vens/ven-a/send-event', post({ shed_kw: 2, duration_sec: 120 }));
    expect(sent.status).toBe(202);
    const single = await shown(sent.body.event_id);
    expect(single).toMatchObject({
      kind: 'ven',
      venId: 'ven-a',
      status: 'running',
      requested_kw: 2,
      vens: 1,
      name: expect.stringMatching(/^ven-a · Shed 2 kW · /),
    });
    const report = (await stack.api(`/api/events/${sent.body.event_id}`)).body;
    expect(report).toMatchObject({
      kind: 'ven',
      status: 'running',
      vens: [{ venId: 'ven-a', correlationId: sent.body.correlationId, online: true }],
    });
    expect(report.intervals[0]).toMatchObject({ result: 'running', pass: null });
    // a dry run lists nothing
    const dry = await stack.api(
      '/api/vens/ven-a/send-event',
      post({ shed_kw: 2, duration_sec: 120, dry_run: true, event_id: 'evt-dry-single' }),
    );
    expect(dry.status).toBe(200);
    expect(await listed('evt-dry-single')).toBeUndefined();
    expect((await stack.api('/api/vens/ven-a/restore', post({}))).status).toBe(202);
  });
});
