// Settlement of a fleet DR event through the local stack: three VENs on the real SDK meter through the real ingest
// path during a short event; once it has ended (and the grace, short here, has passed) the housekeeping sweep
// stores the report and books one `settlement` entry per VEN in its ledger: delivered kWh × its tariff's shed price,
// none for the VEN without a tariff. Sweeps racing and repeating add nothing; the chains verify; the stored report
// answers as the live one did, and a sample landing after settlement leaves it (and the money) as it was.
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../lambdas/core/adapters.js';
import { mapLimited } from '../../lambdas/core/common/map-limited.js';
import { fleetEventReport, MAX_INLINE_VEN_INTERVALS, reportView } from '../../lambdas/core/dr/fleet-event.js';
import type { FleetEventRecord } from '../../lambdas/core/dr/fleet-event-store.js';
import { settleDueEvents, settleEvent, type SettlementPorts } from '../../lambdas/core/dr/settlement.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { post, shows, startApiStack, type ApiTestStack } from './stack.js';

const DURATION_SEC = 18; // one interval of 18 s: 0.005 h
let stack: ApiTestStack;
let ports: SettlementPorts;
const vens: Record<string, TestDevice> = {};

/** Each VEN: the baseline it reports, the load it meters during the event, and the shed (kW) that makes. */
const METERING = {
  'ven-s1': { baseline: 14.5, during: 10.5, shed: 4 },
  'ven-s2': { baseline: 8, during: 2, shed: 6 },
  'ven-s3': { baseline: 7, during: 5, shed: 2 },
} as const;
type VenId = keyof typeof METERING;
const VENS = Object.keys(METERING) as VenId[];

const sample = (venId: VenId, timestamp: number, usedPowerKw: number) => ({
  venId,
  timestamp,
  usedPowerKw,
  baselinePowerKw: METERING[venId].baseline,
  loads: [{ loadId: 'heat', currentPowerKw: usedPowerKw, shedCapabilityKw: 6, enabled: true, priority: 3 }],
});

beforeAll(async () => {
  stack = await startApiStack({ settlementGraceMs: 1000 });
  ports = stack.ports;
  const tariff = (shed: number, currency: string) => ({
    shed_price_per_kwh: shed,
    energy_price_per_kwh: 0.3,
    currency,
  });
  const metadata = [
    {
      nodeId: 'ven-s1',
      location: { lat: 52.1, lon: 4.3 },
      capacity_kw: 20,
      technology: 'ven',
      tariff: tariff(200, 'EUR'),
    },
    {
      nodeId: 'ven-s2',
      location: { lat: 52.2, lon: 4.4 },
      capacity_kw: 20,
      technology: 'ven',
      tariff: tariff(100, 'USD'),
    },
    { nodeId: 'ven-s3', location: { lat: 52.3, lon: 4.5 }, capacity_kw: 20, technology: 'ven' }, // no tariff
  ];
  for (const m of metadata) expect((await stack.api('/api/metadata', post(m))).status).toBe(201);
  for (const id of VENS) {
    vens[id] = await connectDevice(await stack.provision(id), id);
    await vens[id]!.publish(
      topics.metering,
      JSON.stringify(sample(id, Math.floor(Date.now() / 1000), METERING[id].baseline)),
    );
  }
  await eventually(async () => (await stack.api('/api/vens?online=true')).body.items.length === VENS.length);
}, 60_000);

afterAll(async () => {
  for (const device of Object.values(vens)) await device.close();
  await stack?.dispose();
});

const settlements = async (venId: string) =>
  ((await stack.api(`/api/transactions/${venId}?limit=100`)).body.items as any[]).filter(
    (e) => e.type === 'settlement',
  );

describe('an ended fleet event', () => {
  let eventId: string;
  let endsAt: number;

  it('gets one settlement entry per VEN: delivered kWh (shed kW × hours) × the shed price, none priced without a tariff', async () => {
    const res = await stack.api('/api/events', post({ shed_kw: 30, duration_sec: DURATION_SEC, ven_ids: VENS }));
    expect(res.status).toBe(202);
    expect(res.body.allocations.map((a: any) => a.venId).sort()).toEqual(VENS);
    eventId = res.body.eventId;
    const event = (await ports.fleetEvents.get(eventId))!;
    endsAt = event.endsAt;
    // during the event each VEN meters its reduced load, a reading every 2 s from 1 s in (whole seconds)
    const first = Math.floor(event.startedAt / 1000) + 1;
    for (let t = first; t * 1000 < event.startedAt + 12_000; t += 2) {
      await Promise.all(
        VENS.map((id) => vens[id]!.publish(topics.metering, JSON.stringify(sample(id, t, METERING[id].during)))),
      );
    }
    await stack.settle();
    // before the end: nothing settled, the report is computed on each read
    expect(await settlements('ven-s1')).toEqual([]);
    expect((await stack.api(`/api/events/${eventId}`)).body).not.toHaveProperty('report_computed_at');

    // once ended, several sweeps at once (retries, two schedulers) beside the stack's own, each settling what is due
    await new Promise((r) => setTimeout(r, Math.max(0, endsAt + 1000 - Date.now())));
    await Promise.all(Array.from({ length: 4 }, () => settleDueEvents(ports, Date.now(), 1000)));
    await eventually(async () => (await ports.fleetEvents.get(eventId))?.settledAt !== undefined);

    const report = (await stack.api(`/api/events/${eventId}`)).body;
    const computedAt = report.report_computed_at;
    expect(Date.parse(computedAt)).toBeGreaterThanOrEqual(endsAt + 1000);
    // 18 s = 0.005 h: 4 kW → 0.02 kWh × 200 EUR = 4.00; 6 kW → 0.03 kWh × 100 USD = 3.00; 2 kW → 0.01 kWh, unpriced
    const expected = {
      'ven-s1': {
        eventId,
        delivered_kwh: 0.02,
        tariff_per_kwh: 200,
        amount: 4,
        currency: 'EUR',
        report_computed_at: computedAt,
      },
      'ven-s2': {
        eventId,
        delivered_kwh: 0.03,
        tariff_per_kwh: 100,
        amount: 3,
        currency: 'USD',
        report_computed_at: computedAt,
      },
      'ven-s3': {
        eventId,
        delivered_kwh: 0.01,
        tariff_per_kwh: null,
        amount: null,
        currency: null,
        report_computed_at: computedAt,
        note: 'no tariff in the VEN metadata',
      },
    };
    for (const id of VENS) {
      const entries = await settlements(id);
      expect(entries, id).toHaveLength(1);
      expect(entries[0]).toMatchObject({ nodeId: id, type: 'settlement', ref: eventId, data: expected[id] });
      expect(report.vens.find((v: any) => v.venId === id)).toMatchObject({
        measured_shed_kw: METERING[id].shed,
        delivered_kwh: expected[id].delivered_kwh,
      });
    }
    expect(report).toMatchObject({ status: 'settled', delivered_kwh: 0.06, ven_intervals: 'inline' });
  }, 60_000);

  it('adds nothing on later sweeps, nor when the event is settled again, and every chain still verifies', async () => {
    const before = await Promise.all(VENS.map(settlements));
    await new Promise((r) => setTimeout(r, 1000)); // five runs of the stack's sweep (every 200 ms)
    expect(await settleDueEvents(ports, Date.now(), 1000)).toEqual([]);
    await Promise.all(
      [1, 2, 3].map(async () => settleEvent((await ports.fleetEvents.get(eventId))!, ports, Date.now())),
    );
    expect(await Promise.all(VENS.map(settlements))).toEqual(before);
    for (const id of VENS) {
      expect((await stack.api(`/api/transactions/${id}/verify`)).body).toMatchObject({ nodeId: id, ok: true });
    }
  });

  it('serves the stored report, as computed live, and keeps it (and the money) when a sample lands after settlement', async () => {
    // each VEN reports now (long after the event: its report is not touched), so that it is online again by now
    const now = Math.floor(Date.now() / 1000);
    for (const id of VENS) await vens[id]!.publish(topics.metering, JSON.stringify(sample(id, now, 1)));
    // the route adds whether each VEN is online now (not part of the report), from the registry's lagging read
    await shows(async () =>
      expect((await stack.api(`/api/events/${eventId}`)).body.vens.map((v: any) => v.online)).toEqual([
        true,
        true,
        true,
      ]),
    );
    const stored = (await stack.api(`/api/events/${eventId}`)).body;
    const { report_computed_at: computedAt, ...rest } = stored;
    const live = reportView(await fleetEventReport(eventId, ports, Date.parse(computedAt)));
    expect({ ...rest, vens: rest.vens.map(({ online: _now, ...v }: any) => v) }).toEqual(
      JSON.parse(JSON.stringify({ ...live, status: 'settled' })),
    );

    const csv = await fetch(`${stack.config.apiUrl}/api/events/${eventId}/report.csv`, {
      headers: { authorization: `Bearer ${stack.config.token}` },
    });
    expect(csv.status).toBe(200);
    const written = await csv.text();
    const rows = written.trim().split('\n');
    expect(
      rows.filter((r) => r.startsWith('ven,')).map((r) => r.split(',').slice(1, 2).concat(r.split(',')[8]!)),
    ).toEqual(stored.vens.map((v: any) => [v.venId, String(METERING[v.venId as VenId].shed)]));

    // a late reading inside the event window, 9 kW above the baseline: the live computation moves, the stored report not
    const late = Math.floor((endsAt - 3000) / 1000);
    await vens['ven-s1']!.publish(topics.metering, JSON.stringify(sample('ven-s1', late, 23.5)));
    await stack.settle();
    // the live computation reads the samples eventually consistently, as in AWS: it moves once the late one shows
    await eventually(
      async () =>
        (await fleetEventReport(eventId, ports, Date.now())).vens.find((v) => v.venId === 'ven-s1')!
          .measured_shed_kw !== 4,
    );
    // the report as stored: the same (whether each VEN is online now is the registry's, read beside it)
    const withoutOnline = (r: any) => ({ ...r, vens: r.vens.map(({ online: _now, ...v }: any) => v) });
    expect(withoutOnline((await stack.api(`/api/events/${eventId}`)).body)).toEqual(withoutOnline(stored));
    expect((await settlements('ven-s1'))[0].data.amount).toBe(4);
    // nor the file: the same bytes as written at settlement
    const again = await fetch(`${stack.config.apiUrl}/api/events/${eventId}/report.csv`, {
      headers: { authorization: `Bearer ${stack.config.token}` },
    });
    expect(await again.text()).toBe(written);
  });
});

describe('a report too big to serve whole', () => {
  it("serves each VEN's intervals only in the CSV, read back in order from the stored parts", async () => {
    // 36 VENs × 288 intervals (24 h) = 10,368 per-VEN intervals, past MAX_INLINE_VEN_INTERVALS
    const venIds = Array.from({ length: 36 }, (_, i) => `ven-big-${String(i).padStart(2, '0')}`);
    expect(venIds.length * 288).toBeGreaterThan(MAX_INLINE_VEN_INTERVALS);
    const startedAt = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
    const event: FleetEventRecord = {
      eventId: 'evt-big',
      requested_kw: 36,
      duration_sec: 86_400,
      startedAt,
      endsAt: startedAt + 86_400_000,
      allocations: venIds.map((venId, i) => ({ venId, shed_kw: 1, correlationId: `big-${i}` })),
      shortfall_kw: 0,
      excluded: [],
    };
    // each VEN a reading per interval, its shed there a function of the VEN and the interval; a few VENs at a time, as
    // a writer must: all at once, the compression of every write held the event loop while the client's kept-alive
    // connections idled out, and the next requests on them failed with `socket hang up`
    await mapLimited(venIds, 4, (venId, v) =>
      ports.telemetry.write(
        Array.from({ length: 288 }, (_, i) => ({
          series: 'ven_telemetry' as const,
          deviceId: venId,
          time: startedAt + i * 300_000 + 1000,
          dimensions: { venId },
          measures: { usedPowerKw: 10 - ((v + i) % 7) * 0.5, baselinePowerKw: 10 },
        })),
      ),
    );
    // the samples readable before the event is due (in AWS the settlement grace covers the read lag many times over)
    const lastVen = venIds.at(-1)!;
    await eventually(
      async () =>
        (
          await ports.telemetry.query({
            series: 'ven_telemetry',
            deviceId: lastVen,
            start: startedAt,
            end: startedAt + 86_400_000,
            limit: 1000,
          })
        ).items.length === 288,
    );
    expect(await ports.fleetEvents.create(event)).toBe(true);
    await eventually(async () => (await ports.fleetEvents.get('evt-big'))?.settledAt !== undefined, 150_000); // ~20 s alone; minutes on a busy machine

    const head = await documentClient(stack.dynamodb.client).send(
      new GetCommand({
        TableName: stack.dynamodb.tables.fleetEvents,
        Key: { eventId: 'evt-big/report' },
        ConsistentRead: true, // what is stored, not when a reader sees it
      }),
    );
    expect(head.Item!.parts.length).toBeGreaterThan(1);
    const served = (await stack.api('/api/events/evt-big')).body;
    expect(served.ven_intervals).toBe('csv');
    expect(served.vens.map((v: any) => v.intervals)).toEqual(venIds.map(() => []));
    expect(served.intervals).toHaveLength(288);

    const csv = await fetch(`${stack.config.apiUrl}/api/events/evt-big/report.csv`, {
      headers: { authorization: `Bearer ${stack.config.token}` },
    });
    const venRows = (await csv.text())
      .trim()
      .split('\n')
      .filter((r) => r.startsWith('ven,'))
      .map((r) => r.split(','));
    const live = await fleetEventReport('evt-big', ports, Date.parse(served.report_computed_at));
    expect(venRows.map((r) => [r[1], r[2], Number(r[8])])).toEqual(
      live.vens.flatMap((v) => v.intervals.map((iv) => [v.venId, iv.start, iv.shed_kw])),
    );
    // hand-computed: ven-big-03 in interval 5 sheds ((3 + 5) % 7) × 0.5 = 0.5 kW
    expect(
      venRows.find((r) => r[1] === 'ven-big-03' && r[2] === new Date(startedAt + 5 * 300_000).toISOString())![8],
    ).toBe('0.5');
    // and the settlement priced what the stored report says was delivered: no tariff here, so unpriced
    const entry = (await settlements('ven-big-03'))[0];
    expect(entry.data).toMatchObject({ eventId: 'evt-big', delivered_kwh: served.vens[3].delivered_kwh, amount: null });
  }, 180_000);
});

describe('an event that cannot be settled', () => {
  it('is left for the next run, named, while the others are settled', async () => {
    const hourAgo = Date.now() - 3_600_000;
    const event = (eventId: string, startedAt: number, venId: string): FleetEventRecord => ({
      eventId,
      requested_kw: 1,
      duration_sec: 300,
      startedAt,
      endsAt: startedAt + 300_000,
      allocations: [{ venId, shed_kw: 1, correlationId: `${eventId}-c` }],
      shortfall_kw: 0,
      excluded: [],
    });
    // the newer one's stored report is corrupt (not Brotli): every attempt at it fails
    await ports.fleetEvents.create(event('evt-good', hourAgo, 'ven-s2'));
    await ports.fleetEvents.create(event('evt-bad', hourAgo + 60_000, 'ven-s1'));
    const doc = documentClient(stack.dynamodb.client);
    await doc.send(
      new PutCommand({
        TableName: stack.dynamodb.tables.fleetEvents,
        Item: { eventId: 'evt-bad/report', z: Buffer.from('not brotli'), parts: [] },
      }),
    );
    // the sweep lists events from an index (eventually consistent): both listed first, as a later run would see them
    await eventually(
      async () =>
        (await ports.fleetEvents.list({ limit: 100 })).items.filter(
          (e) => e.eventId === 'evt-good' || e.eventId === 'evt-bad',
        ).length === 2,
    );
    await expect(settleDueEvents(ports, Date.now(), 1000)).rejects.toThrow(
      /settlement failed for evt-bad \(settled: [01]\)/,
    );
    await eventually(async () => (await ports.fleetEvents.get('evt-good'))?.settledAt !== undefined);
    expect((await settlements('ven-s2')).map((e) => e.ref)).toContain('evt-good');
    expect((await ports.fleetEvents.get('evt-bad'))?.settledAt).toBeUndefined();
    expect((await settlements('ven-s1')).map((e) => e.ref)).not.toContain('evt-bad');
  });
});
