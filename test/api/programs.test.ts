// DR programs through the local stack: CRUD with versions, the built-in program read only, 400s naming the field
// (an unknown time zone among them), roles (viewers read, admins write); an event of a program runs on its enrolled
// VENs under its limits, reports in its zone and settles at its price.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { baselineRuleSchema } from '../../lambdas/core/contracts/programs.js';
import { fleetEventReport } from '../../lambdas/core/dr/fleet-event.js';
import type { FleetEventRecord } from '../../lambdas/core/dr/fleet-event-store.js';
import { addDays, localDate, zonedInstant } from '../../lambdas/core/programs/market-time.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { post, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
const vens: TestDevice[] = [];
const VENS = ['ven-p1', 'ven-p2'];

const sample = (venId: string, timestamp: number, usedPowerKw: number) => ({
  venId,
  timestamp,
  usedPowerKw,
  baselinePowerKw: 12,
  loads: [{ loadId: 'heat', currentPowerKw: usedPowerKw, shedCapabilityKw: 6, enabled: true, priority: 3 }],
});

beforeAll(async () => {
  stack = await startApiStack({ settlementGraceMs: 1000 });
  for (const id of VENS) {
    const ven = await connectDevice(await stack.provision(id), id);
    vens.push(ven);
    await ven.publish(topics.metering, JSON.stringify(sample(id, Math.floor(Date.now() / 1000), 12)));
  }
  await eventually(async () => (await stack.api('/api/vens?online=true')).body.items.length === VENS.length);
}, 60_000);

afterAll(async () => {
  for (const ven of vens) await ven.close();
  await stack?.dispose();
});

const patch = (body: unknown) => ({ method: 'PATCH', body: JSON.stringify(body) });
const pacific = { name: 'Summer peak', market: 'PG&E', time_zone: 'America/Los_Angeles', price_per_kwh: 2 };

describe('programs', () => {
  it('creates with the defaults filled in, reads, lists after the built-in one, changes with a version, deletes', async () => {
    const made = await stack.api('/api/programs', post({ ...pacific, program_id: 'summer-peak' }));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      program_id: 'summer-peak',
      time_zone: 'America/Los_Angeles',
      holidays: 'us-federal',
      baseline: {
        weekday: { n: 10, m: 10 },
        weekend_holiday: { n: 10, m: 10 },
        lookback_days: 21,
        adjustment: { window_start_min: 240, window_end_min: 60, cap: 0.2 },
      },
      currency: 'USD',
      ven_ids: [],
      version: 1,
    });
    expect((await stack.api('/api/programs/summer-peak')).body).toEqual(made.body);
    expect(
      await stack
        .api('/api/programs', post({ ...pacific, program_id: 'summer-peak' }))
        .then((r) => [r.status, r.body.field]),
    ).toEqual([409, 'program_id']);

    const list = (await stack.api('/api/programs')).body.items.map((p: { program_id: string }) => p.program_id);
    expect(list[0]).toBe('default');
    expect(list).toContain('summer-peak');

    const changed = await stack.api(
      '/api/programs/summer-peak',
      patch({ baseline: { weekend_holiday: { n: 4, m: 4 } }, holidays: ['2026-07-03'] }),
    );
    expect(changed).toMatchObject({
      status: 200,
      body: {
        version: 2,
        holidays: ['2026-07-03'],
        baseline: { weekend_holiday: { n: 4, m: 4 }, weekday: { n: 10, m: 10 } },
      },
    });

    const generated = await stack.api('/api/programs', post({ ...pacific, name: 'Another' }));
    expect(generated.body.program_id).toMatch(/^prg-[0-9a-f]{8}$/);
    expect((await stack.api(`/api/programs/${generated.body.program_id}`, { method: 'DELETE' })).body).toEqual({
      program_id: generated.body.program_id,
      deleted: true,
    });
    expect((await stack.api(`/api/programs/${generated.body.program_id}`)).status).toBe(404);
    expect((await stack.api(`/api/programs/${generated.body.program_id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('the built-in program reads as UTC days priced by tariff, and cannot be changed or deleted', async () => {
    expect((await stack.api('/api/programs/default')).body).toMatchObject({
      program_id: 'default',
      time_zone: 'UTC',
      holidays: 'none',
      price_per_kwh: null,
      built_in: true,
    });
    expect((await stack.api('/api/programs/default', patch({ name: 'x' }))).status).toBe(409);
    expect((await stack.api('/api/programs/default', { method: 'DELETE' })).status).toBe(409);
  });

  const invalid: [string, unknown][] = [
    ['time_zone', { ...pacific, time_zone: 'America/Springfield' }],
    ['time_zone', { ...pacific, time_zone: 'PST8PDT-ish' }],
    ['price_per_kwh', { ...pacific, price_per_kwh: undefined }],
    ['price_per_kwh', { ...pacific, price_per_kwh: -1 }],
    ['baseline.weekday.n', { ...pacific, baseline: { weekday: { n: 11, m: 10 } } }],
    ['baseline.lookback_days', { ...pacific, baseline: { lookback_days: 0 } }],
    [
      'baseline.adjustment.window_end_min',
      { ...pacific, baseline: { adjustment: { window_start_min: 60, window_end_min: 120 } } },
    ],
    ['holidays', { ...pacific, holidays: 'uk-bank' }],
    ['limits.min_duration_min', { ...pacific, limits: { min_duration_min: 120, max_duration_min: 60 } }],
    ['limits.season.from', { ...pacific, limits: { season: { from: 'June', to: '09-30' } } }],
    ['ven_ids', { ...pacific, ven_ids: ['ven-p1', 'ven-p1'] }],
    ['program_id', { ...pacific, program_id: 'default' }],
    ['program_id', { ...pacific, program_id: 'Has Spaces' }],
    ['colour', { ...pacific, colour: 'red' }],
  ];
  it.each(invalid)('refuses 400 naming %s', async (field, body) => {
    const res = await stack.api('/api/programs', post(body));
    expect(res).toMatchObject({ status: 400, body: { error: 'ValidationError', field } });
  });

  it('a PATCH is checked the same way: an unknown time zone is a 400 naming it, and nothing changes', async () => {
    await stack.api('/api/programs', post({ ...pacific, program_id: 'tz-check' }));
    expect((await stack.api('/api/programs/tz-check', patch({ time_zone: 'Mars/Olympus_Mons' }))).body).toMatchObject({
      field: 'time_zone',
    });
    expect((await stack.api('/api/programs/tz-check', patch({}))).status).toBe(400);
    expect((await stack.api('/api/programs/tz-check')).body).toMatchObject({
      time_zone: 'America/Los_Angeles',
      version: 1,
    });
  });

  it('viewers read, only admins write', async () => {
    const { viewer, operator } = stack.config.tokens;
    expect((await stack.api('/api/programs', { token: viewer })).status).toBe(200);
    expect((await stack.api('/api/programs/default', { token: viewer })).status).toBe(200);
    expect(
      (await stack.api('/api/programs', { ...post({ ...pacific, program_id: 'by-operator' }), token: operator }))
        .status,
    ).toBe(403);
    expect((await stack.api('/api/programs/tz-check', { ...patch({ name: 'x' }), token: operator })).status).toBe(403);
    expect((await stack.api('/api/programs/tz-check', { method: 'DELETE', token: viewer })).status).toBe(403);
  });
});

describe('events of a program', () => {
  it('refuse an unknown program (404), a VEN not enrolled (400 ven_ids), a duration out of its limits (400)', async () => {
    await stack.api(
      '/api/programs',
      post({
        ...pacific,
        program_id: 'only-p1',
        ven_ids: ['ven-p1'],
        limits: { min_duration_min: 1, max_duration_min: 30 },
      }),
    );
    expect((await stack.api('/api/events', post({ shed_kw: 5, duration_sec: 60, program_id: 'no-such' }))).status).toBe(
      404,
    );
    expect(
      (
        await stack.api(
          '/api/events',
          post({ shed_kw: 5, duration_sec: 60, program_id: 'only-p1', ven_ids: ['ven-p2'] }),
        )
      ).body,
    ).toMatchObject({ error: 'ValidationError', field: 'ven_ids' });
    expect(
      (await stack.api('/api/events', post({ shed_kw: 5, duration_sec: 3600, program_id: 'only-p1', dry_run: true })))
        .body,
    ).toMatchObject({ field: 'duration_sec' });
    await stack.api('/api/programs', post({ ...pacific, program_id: 'nobody' }));
    expect(
      (await stack.api('/api/events', post({ shed_kw: 5, duration_sec: 60, program_id: 'nobody', dry_run: true })))
        .status,
    ).toBe(409);
    await stack.api(
      '/api/programs',
      post({ ...pacific, program_id: 'with-notice', ven_ids: ['ven-p1'], limits: { notice_min: 30 } }),
    );
    expect(
      (await stack.api('/api/events', post({ shed_kw: 5, duration_sec: 60, program_id: 'with-notice', dry_run: true })))
        .status,
    ).toBe(409);
  });

  it('run on the enrolled VENs only, keep the program in the report and settle at its price; one a day when the program says so', async () => {
    await stack.api(
      '/api/programs',
      post({
        ...pacific,
        program_id: 'priced',
        price_per_kwh: 3,
        currency: 'USD',
        ven_ids: ['ven-p1'],
        limits: { max_events_per_day: 1 },
      }),
    );
    const res = await stack.api('/api/events', post({ shed_kw: 4, duration_sec: 9, program_id: 'priced' }));
    expect(res.status).toBe(202);
    expect(res.body.allocations.map((a: { venId: string }) => a.venId)).toEqual(['ven-p1']);
    const eventId = res.body.eventId as string;
    // the day's count is read from the events' month index, eventually consistent as in AWS: the event shows within the lag
    await eventually(async () =>
      ((await stack.api('/api/events?limit=100')).body.items as { eventId: string }[]).some(
        (e) => e.eventId === eventId,
      ),
    );
    const again = await stack.api(
      '/api/events',
      post({ shed_kw: 4, duration_sec: 9, program_id: 'priced', dry_run: true }),
    );
    expect(again).toMatchObject({ status: 409, body: { field: 'program_id' } });
    expect(again.body.message).toMatch(/1 event\(s\) a day/);

    const event = (await stack.ports.fleetEvents.get(eventId))!;
    const first = Math.floor(event.startedAt / 1000) + 1;
    for (let t = first; t * 1000 < event.startedAt + 8_000; t += 1)
      await vens[0]!.publish(topics.metering, JSON.stringify(sample('ven-p1', t, 8)));
    const report = await eventually(async () => {
      const r = (await stack.api(`/api/events/${eventId}`)).body;
      return r.vens[0].samples >= 4 && r;
    }, 20_000);
    expect(report.program).toEqual({
      program_id: 'priced',
      time_zone: 'America/Los_Angeles',
      price_per_kwh: 3,
      currency: 'USD',
    });
    expect(report.baseline_method).toMatch(/local days of America\/Los_Angeles, US federal holidays/);
    expect(
      (await stack.api('/api/events')).body.items.find((e: { eventId: string }) => e.eventId === eventId),
    ).toMatchObject({ program_id: 'priced' });

    // settled at the program's price, not a tariff (ven-p1 has none): 4 kW shed (12 − 8) × 9 s = 0.01 kWh × 3 = 0.03
    await eventually(async () => (await stack.ports.fleetEvents.get(eventId))?.settledAt !== undefined, 30_000);
    const entries = (
      (await stack.api('/api/transactions/ven-p1?limit=100')).body.items as {
        type: string;
        data: Record<string, unknown>;
      }[]
    ).filter((e) => e.type === 'settlement');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.data).toMatchObject({
      eventId,
      delivered_kwh: 0.01,
      tariff_per_kwh: 3,
      amount: 0.03,
      currency: 'USD',
    });
  }, 60_000);

  it('an event naming no program runs as before, in the built-in one', async () => {
    const res = await stack.api(
      '/api/events',
      post({ shed_kw: 6, duration_sec: 60, ven_ids: ['ven-p2'], dry_run: true }),
    );
    expect(res.status).toBe(200);
    expect(res.body, JSON.stringify(res.body)).toMatchObject({ allocations: [{ venId: 'ven-p2' }] });
  });
});

describe('the report of an event in a Pacific program, over history in the local time series', () => {
  it('baselines the Monday after the autumn change on the 10 prior weekdays at 17:00 Pacific (Columbus Day out of reach)', async () => {
    // Mon 2 Nov 2026 17:00 PST = Tue 3 Nov 01:00 UTC; one hour. ven-hist draws 10 kW from 17:00 to 18:00 local on
    // weekdays, 4 kW on weekends and holidays, 20 kW at other hours (written from 13:00 to 18:00 local, every 15 min).
    const LA = 'America/Los_Angeles';
    const startedAt = Date.parse('2026-11-03T01:00:00Z');
    const records = [];
    for (let k = 1; k <= 21; k++) {
      const date = addDays('2026-11-02', -k);
      const day = new Date(`${date}T00:00:00Z`).getUTCDay();
      const off = day === 0 || day === 6 || date === '2026-10-12';
      for (let t = zonedInstant(date, 13 * 3_600_000, LA); t < zonedInstant(date, 18 * 3_600_000, LA); t += 900_000) {
        const hour = Number(
          new Intl.DateTimeFormat('en-US', { timeZone: LA, hour: '2-digit', hourCycle: 'h23' }).format(t),
        );
        expect(localDate(t, LA)).toBe(date);
        records.push({
          series: 'ven_telemetry' as const,
          deviceId: 'ven-hist',
          time: t,
          dimensions: { venId: 'ven-hist' },
          measures: { usedPowerKw: hour === 17 ? (off ? 4 : 10) : 20 },
        });
      }
    }
    await stack.ports.telemetry.write(records);
    const event: FleetEventRecord = {
      eventId: 'evt-pacific',
      requested_kw: 5,
      duration_sec: 3600,
      startedAt,
      endsAt: startedAt + 3_600_000,
      allocations: [{ venId: 'ven-hist', shed_kw: 5, correlationId: 'hist-1' }],
      shortfall_kw: 0,
      excluded: [],
      program: {
        program_id: 'pacific-hist',
        time_zone: LA,
        holidays: 'us-federal',
        baseline: baselineRuleSchema.parse({}),
        price_per_kwh: 1,
        currency: 'USD',
      },
    };
    expect(await stack.ports.fleetEvents.create(event)).toBe(true);
    const report = await fleetEventReport('evt-pacific', stack.ports, startedAt + 2 * 3_600_000);
    const ven = report.vens[0]!;
    // weekdays back from Fri 30 Oct: 30, 29, 28, 27, 26, 23, 22, 21, 20, 19 Oct (each 17:00 PDT: 73 h and more back)
    expect(ven.baseline.days).toEqual([
      '2026-10-30',
      '2026-10-29',
      '2026-10-28',
      '2026-10-27',
      '2026-10-26',
      '2026-10-23',
      '2026-10-22',
      '2026-10-21',
      '2026-10-20',
      '2026-10-19',
    ]);
    expect(ven.baseline.method).toBe('10-of-10');
    // a reading every 15 minutes: the 5-minute intervals at :00, :15, :30 and :45 have history, each 10 kW (not 20: the hour is right)
    expect(
      ven.intervals.filter((i) => i.baseline_kw !== null).map((i) => [String(i.start).slice(11, 16), i.baseline_kw]),
    ).toEqual([
      ['01:00', 10],
      ['01:15', 10],
      ['01:30', 10],
      ['01:45', 10],
    ]);
    expect(report.program).toMatchObject({ program_id: 'pacific-hist', time_zone: LA });
  });
});
