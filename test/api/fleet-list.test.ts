// `GET /api/events` and the dry runs through the local stack: fleet events listed newest first page by page, and
// `dry_run` answering the plan while nothing is stored, recorded or published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { nowSec, post, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
let ven: TestDevice;
let gateway: TestDevice;

/** ven-l1: 3 kW sheddable at priority 2, a critical 4 kW that never counts. */
const metering = (timestamp: number) => ({
  venId: 'ven-l1',
  timestamp,
  usedPowerKw: 7,
  loads: [
    { loadId: 'hvac', currentPowerKw: 3, shedCapabilityKw: 3, enabled: true, priority: 2 },
    { loadId: 'fridge', currentPowerKw: 4, shedCapabilityKw: 4, enabled: true, priority: 9, critical: true },
  ],
});

beforeAll(async () => {
  stack = await startApiStack();
  ven = await connectDevice(await stack.provision('ven-l1'), 'ven-l1');
  await ven.subscribe(topics.command('ven-l1'));
  gateway = await connectDevice(await stack.provision('gw-a'), 'gw-a');
  await gateway.subscribe(topics.command('gw-a'));
  await ven.publish(topics.metering, JSON.stringify(metering(nowSec())));
  await eventually(async () => (await stack.api('/api/vens/ven-l1')).body?.latest?.availableShedKw === 3);
});

afterAll(async () => {
  await ven?.close();
  await gateway?.close();
  await stack?.dispose();
});

const events = (query = '') => stack.api(`/api/events${query}`);
const pause = () => new Promise((r) => setTimeout(r, 5));

describe('POST /api/events with dry_run', () => {
  it('answers 200 with the plan, in the shape of the real answer, and creates, records and sends nothing', async () => {
    const res = await stack.api('/api/events', post({ shed_kw: 5, duration_sec: 600, dry_run: true }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      dry_run: true,
      name: expect.stringMatching(/^Shed 5 kW · (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d UTC$/),
      start: expect.any(String),
      requested_kw: 5,
      allocated_kw: 3,
      shortfall_kw: 2,
      allocations: [{ venId: 'ven-l1', shed_kw: 3 }],
      excluded: [],
      committed: [],
      edge: { available_discharge_kw: 0, nodes: [] },
    });
    expect((await events()).body.items).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(ven.received).toEqual([]);

    const real = await stack.api('/api/events', post({ shed_kw: 5, duration_sec: 600 }));
    expect(real.status).toBe(202);
    const { eventId: _id, allocations, status, ...rest } = real.body;
    expect(status).toBe('running');
    // the plan adds what edge batteries could discharge (the event itself commands VENs only)
    const { dry_run: _dry, allocations: planned, edge: _edge, ...plan } = res.body;
    // its start and the name made from it are when it was planned: a moment apart
    Object.assign(plan, { start: rest.start, name: rest.name });
    expect(rest).toEqual(plan);
    expect(allocations.map(({ venId, shed_kw }: { venId: string; shed_kw: number }) => ({ venId, shed_kw }))).toEqual(
      planned,
    );
    await eventually(async () => ven.received.length === 1);
  });

  it('refuses a dry_run that is not a boolean, and a misspelt one, naming the field', async () => {
    expect(await stack.api('/api/events', post({ shed_kw: 1, duration_sec: 60, dry_run: 'true' }))).toMatchObject({
      status: 400,
      body: { field: 'dry_run' },
    });
    expect(await stack.api('/api/events', post({ shed_kw: 1, duration_sec: 60, dryRun: true }))).toMatchObject({
      status: 400,
      body: { field: 'dryRun' },
    });
  });
});

describe('POST /dispatch with dry_run', () => {
  it('answers 200 with the clamped setpoint and the gateway, and records and sends nothing', async () => {
    const res = await stack.api('/dispatch', post({ site_id: 'site-a', mw: 10, dry_run: true }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      dry_run: true,
      site_id: 'site-a',
      gateway: 'gw-a',
      mw_requested: 10,
      mw_sent: 6,
      clamped: true,
    });
    const asset = await stack.api(
      '/dispatch',
      post({ asset_id: 'a-bess-1', site_id: 'site-a', mw: -2, dry_run: true }),
    );
    expect(asset.body).toEqual({
      dry_run: true,
      asset_id: 'a-bess-1',
      gateway: 'gw-a',
      mw_requested: -2,
      mw_sent: -2,
      clamped: false,
    });
    expect((await stack.api('/dispatch', post({ asset_id: 'nope', mw: 1, dry_run: true }))).status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    expect(gateway.received).toEqual([]);

    const real = await stack.api('/dispatch', post({ site_id: 'site-a', mw: 10, dry_run: false }));
    expect(real.status).toBe(202);
    await eventually(async () => gateway.received.length === 1);
    expect((await stack.api(`/api/dispatch/${real.body.dispatch_id}`)).status).toBe(200);
  });

  it('refuses a dry_run that is not a boolean, naming the field', async () => {
    expect(await stack.api('/dispatch', post({ site_id: 'site-a', mw: 1, dry_run: 1 }))).toMatchObject({
      status: 400,
      body: { error: 'ValidationError', field: 'dry_run' },
    });
  });
});

describe('GET /api/events', () => {
  it('lists fleet events newest first with their summary, paged by limit and next', async () => {
    const before = (await events()).body.items.length;
    const created: string[] = [];
    for (const shed_kw of [1, 2, 4]) {
      await pause();
      // each VEN runs one event at a time: the operator restores it, which frees it for the next
      expect((await stack.api('/api/vens/ven-l1/restore', post({}))).status).toBe(202);
      created.unshift((await stack.api('/api/events', post({ shed_kw, duration_sec: 120 }))).body.eventId);
    }
    // the listing is an index query, eventually consistent in AWS: the new events show within the lag
    const all = await eventually(async () => {
      const res = await events();
      return res.body.items.length === before + 3 && res;
    });
    expect(all.status).toBe(200);
    const [newest] = all.body.items;
    expect(newest).toEqual({
      eventId: created[0],
      name: expect.stringMatching(/^Shed 4 kW · /),
      kind: 'fleet',
      status: 'running',
      result: null,
      measured_shed_kw: null,
      requested_kw: 4,
      duration_sec: 120,
      startedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      endsAt: new Date(Date.parse(newest.startedAt) + 120_000).toISOString(),
      allocated_kw: 3,
      shortfall_kw: 1,
      vens: 1,
      program_id: 'default',
    });
    const starts = all.body.items.map((e: { startedAt: string }) => e.startedAt);
    expect(starts).toEqual([...starts].sort().reverse());

    const first = await events('?limit=2');
    expect(first.body.items.map((e: { eventId: string }) => e.eventId)).toEqual(created.slice(0, 2));
    expect(first.body.next).toEqual(expect.any(String));
    const second = await events(`?limit=2&next=${first.body.next}`);
    expect(second.body.items[0].eventId).toBe(created[2]);
    expect(second.body.items).toHaveLength(Math.min(2, before + 1));
  });

  it('refuses a bad limit or next, naming the field, and needs a token', async () => {
    expect(await events('?limit=0')).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect(await events('?limit=1001')).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect(await events('?next=nonsense')).toMatchObject({ status: 400, body: { field: 'next' } });
    expect((await stack.api('/api/events', { token: null })).status).toBe(401);
  });
});
