// Overlapping fleet events through the local stack (no simulated fleet): VENs on the real device SDK report their
// loads; requests for fleet events arriving together (a double click, two operators) never commit one VEN to two
// events, a dry run during an event says what is committed and plans without it, and one VEN's one shed is paid once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleDueEvents } from '../../lambdas/core/dr/settlement.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { post, startApiStack, type ApiTestStack } from './stack.js';

/** ven-o1 and ven-o2 race for long events; ven-o3 (with a tariff) runs short ones that get settled. */
const VENS = ['ven-o1', 'ven-o2', 'ven-o3'] as const;
const BASELINE_KW = 8;
const SHED_KW = 6;
let stack: ApiTestStack;
const vens: Record<string, TestDevice> = {};

/** A VEN's metering: its own baseline and one 6 kW sheddable load, drawing `usedPowerKw` in all. */
const sample = (venId: string, timestamp: number, usedPowerKw: number) => ({
  venId,
  timestamp,
  usedPowerKw,
  baselinePowerKw: BASELINE_KW,
  loads: [
    {
      loadId: 'heat',
      currentPowerKw: Math.min(SHED_KW, usedPowerKw),
      shedCapabilityKw: SHED_KW,
      enabled: true,
      priority: 3,
    },
  ],
});

beforeAll(async () => {
  stack = await startApiStack({ settlementGraceMs: 1000 });
  const tariff = { shed_price_per_kwh: 100, energy_price_per_kwh: 0.3, currency: 'EUR' };
  const meta = { nodeId: 'ven-o3', location: { lat: 52.1, lon: 4.3 }, capacity_kw: 20, technology: 'ven', tariff };
  expect((await stack.api('/api/metadata', post(meta))).status).toBe(201);
  for (const id of VENS) {
    vens[id] = await connectDevice(await stack.provision(id), id);
    await vens[id]!.subscribe(topics.command(id));
    await vens[id]!.publish(topics.metering, JSON.stringify(sample(id, Math.floor(Date.now() / 1000), BASELINE_KW)));
  }
  await eventually(async () => (await stack.api('/api/vens?online=true')).body.items.length === VENS.length);
}, 60_000);

afterAll(async () => {
  for (const device of Object.values(vens)) await device.close();
  await stack?.dispose();
});

describe('fleet events requested at once', () => {
  const RACED = ['ven-o1', 'ven-o2'];
  let started: any[] = [];

  it('never commit one VEN to two events: each VEN is allocated once, and what is left out is named', async () => {
    // four at once, no Idempotency-Key: each asks for both VENs (12 kW)
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        stack.api('/api/events', post({ shed_kw: 12, duration_sec: 600, ven_ids: RACED })),
      ),
    );
    started = answers.filter((a) => a.status === 202).map((a) => a.body);
    const refused = answers.filter((a) => a.status !== 202);
    expect(started.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.body.message).toMatch(/^nothing left to allocate: ven-o\d \(6 kW\) is committed to evt-/);
    }
    const allocated = started.flatMap((e) => e.allocations.map((a: any) => a.venId));
    expect(allocated.sort(), 'each VEN in one event only').toEqual([...new Set(allocated)].sort());
    expect(allocated.sort()).toEqual(RACED);
    const totalKw = started.reduce((s, e) => s + e.allocated_kw, 0);
    expect(totalKw, 'allocated no more than the VENs can shed').toBe(2 * SHED_KW);
    // an event given less says so: its shortfall, and the VEN committed elsewhere
    for (const e of started.filter((x) => x.allocations.length < RACED.length)) {
      expect(e.shortfall_kw).toBe(SHED_KW);
      expect(e.excluded[0].reason).toMatch(/^committed to evt-/);
    }
    // each VEN got one event command, no more
    for (const id of RACED) {
      await eventually(() => vens[id]!.received.some((m) => m.topic === topics.command(id)));
      await new Promise((r) => setTimeout(r, 300));
      expect(
        vens[id]!.received.filter((m) => m.topic === topics.command(id)),
        id,
      ).toHaveLength(1);
    }
  }, 30_000);

  it('a dry run during them plans without the committed VENs and says what is committed, to which event, until when', async () => {
    const plan = await stack.api('/api/events', post({ shed_kw: 12, duration_sec: 60, ven_ids: RACED, dry_run: true }));
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({ dry_run: true, allocations: [], allocated_kw: 0, shortfall_kw: 12 });
    const holder = (venId: string) => started.find((e) => e.allocations.some((a: any) => a.venId === venId));
    expect(plan.body.committed.sort((a: any, b: any) => a.venId.localeCompare(b.venId))).toEqual(
      RACED.map((venId) => ({
        venId,
        eventId: holder(venId).eventId,
        shed_kw: SHED_KW,
        until: expect.stringMatching(/Z$/),
      })),
    );
    for (const c of plan.body.committed) expect(Date.parse(c.until) - Date.now()).toBeGreaterThan(500_000);
    expect(plan.body.excluded.map((x: any) => x.reason)).toEqual([
      expect.stringMatching(/^committed to evt-/),
      expect.stringMatching(/^committed to evt-/),
    ]);
    // every online VEN: only the free one is planned with
    const all = await stack.api('/api/events', post({ shed_kw: 12, duration_sec: 60, dry_run: true }));
    expect(all.body.allocations.map((a: any) => a.venId)).toEqual(['ven-o3']);
  });
});

describe('a VEN restored before its event ends', () => {
  it('is free for the next event at once, and its first event measures it only up to the restore', async () => {
    const reportOf = async (eventId: string) => (await stack.api(`/api/events/${eventId}`)).body;
    const first = (
      await stack.api('/api/events', post({ shed_kw: 6, duration_sec: 600, ven_ids: ['ven-o1'], dry_run: true }))
    ).body;
    const holder = first.committed[0].eventId;
    const restored = await stack.api('/api/vens/ven-o1/restore', post({}));
    expect(restored.body).toMatchObject({ status: 'sent', venId: 'ven-o1', released_from: holder });
    const releasedAt = Date.now();
    const next = await stack.api('/api/events', post({ shed_kw: 6, duration_sec: 600, ven_ids: ['ven-o1'] }));
    expect(next.status, JSON.stringify(next.body)).toBe(202);
    expect(next.body.allocations.map((a: any) => a.venId)).toEqual(['ven-o1']);
    // the first event's window goes on, but its part of ven-o1 ends at the restore: no time is counted by both
    const old = (await reportOf(holder)).vens.find((v: any) => v.venId === 'ven-o1');
    expect(Date.parse(old.released_at)).toBeLessThanOrEqual(releasedAt);
    expect(Date.parse(old.intervals.at(-1).end)).toBe(Date.parse(old.released_at));
    const started = Date.parse((await reportOf(next.body.eventId)).start);
    expect(started).toBeGreaterThanOrEqual(Date.parse(old.released_at));
    // a second restore has nothing left to release
    expect((await stack.api('/api/vens/ven-o2/restore', post({}))).body.released_from).toMatch(/^evt-/);
    expect((await stack.api('/api/vens/ven-o2/restore', post({}))).body).not.toHaveProperty('released_from');
  });
});

describe('two overlapping events over one VEN with a tariff', () => {
  it('book one settlement entry for its one shed, and the second event is refused while the first runs', async () => {
    const DURATION_SEC = 9;
    const body = { shed_kw: SHED_KW, duration_sec: DURATION_SEC, ven_ids: ['ven-o3'] };
    const first = await stack.api('/api/events', post(body));
    const second = await stack.api('/api/events', post(body));
    expect(first.status).toBe(202);
    const event = (await stack.ports.fleetEvents.get(first.body.eventId))!;
    // the VEN sheds 6 kW: it meters 2 kW against its 8 kW baseline, a reading a second
    for (let t = Math.floor(event.startedAt / 1000) + 1; t * 1000 < event.endsAt; t++) {
      await vens['ven-o3']!.publish(topics.metering, JSON.stringify(sample('ven-o3', t, BASELINE_KW - SHED_KW)));
      await new Promise((r) => setTimeout(r, Math.max(0, (t + 1) * 1000 - Date.now())));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, event.endsAt + 1500 - Date.now())));
    await settleDueEvents(stack.ports, Date.now(), 1000);
    await eventually(async () => (await stack.ports.fleetEvents.get(event.eventId))?.settledAt !== undefined);
    const ledger = (await stack.api('/api/transactions/ven-o3?limit=100')).body.items as any[];
    const settlements = ledger.filter((e) => e.type === 'settlement');
    expect(
      settlements.map((s) => s.ref),
      'one payment for one shed',
    ).toEqual([event.eventId]);
    expect(settlements[0].data).toMatchObject({ currency: 'EUR', tariff_per_kwh: 100 });
    expect(settlements[0].data.delivered_kwh).toBeGreaterThan(0);
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(second.body.message).toContain(
      `ven-o3 (6 kW) is committed to ${event.eventId} until ${new Date(event.endsAt).toISOString()}`,
    );
    // once the first has ended the VEN is free again
    const after = await stack.api('/api/events', post({ ...body, dry_run: true }));
    expect(after.body).toMatchObject({ allocations: [{ venId: 'ven-o3' }], committed: [], excluded: [] });
  }, 60_000);
});
