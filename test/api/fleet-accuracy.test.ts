// A fleet DR event lands on target: the simulated fleet (device/fleet.ts: VEN agents on the device SDK
// with the default panel, economy profile) over the local stack; the allocation hands out whole circuits and each VEN
// sheds what it was given, so the acknowledged and the measured shed stay within ±10% of the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../device/fleet.js';
import { eventually, startStackFleet } from '../e2e/helpers.js';
import { post, startApiStack, type ApiTestStack } from './stack.js';

const VENS = Array.from({ length: 6 }, (_, i) => `ven-acc-${i + 1}`);
let stack: ApiTestStack;
let fleet: Fleet;

beforeAll(async () => {
  stack = await startApiStack();
  fleet = await startStackFleet(
    stack,
    VENS.map((thingName) => ({ mode: 'ven' as const, thingName })),
    { intervals: { meteringMs: 500 } },
  );
  await eventually(async () => {
    const { items } = (await stack.api('/api/vens?online=true&limit=100')).body;
    return items.length === VENS.length && items.every((v: any) => v.latest?.shedLoads?.length > 0);
  }, 20_000);
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await stack?.dispose();
});

const within = (value: number, target: number) => Math.abs(value - target) / target;

describe('a fleet event on the simulated fleet', () => {
  // The default panel sheds up to ~13.5 kW (EV 6.5, water heater 2.25, HVAC 2.5, pool 1.2, kitchen and lighting
  // ~0.5 each): six VENs ~80 kW. 20 kW is the case that used to come back as 26.7.
  it.each([20, 47])(
    'lands within 10 percent of %s kW, acknowledged and measured',
    async (requested) => {
      const res = await stack.api('/api/events', post({ shed_kw: requested, duration_sec: 15 }));
      expect(res.status).toBe(202);
      expect(res.body.shortfall_kw).toBeLessThanOrEqual(requested * 0.1);
      const { eventId } = res.body;
      const acked = await eventually(async () => {
        const r = (await stack.api(`/api/events/${eventId}`)).body;
        return r.vens.every((v: any) => v.status === 'acked') && r;
      });
      expect(within(acked.acknowledged_kw, requested), `acknowledged ${acked.acknowledged_kw} kW`).toBeLessThanOrEqual(
        0.1,
      );
      // measured: the VENs' own baselines (no history in a fresh stack) less their metered load over the event (one
      // reading a second: timestamps are whole seconds). Readings between the event's start and a VEN applying it
      // count at full load, as a meter sees them: 15 s, so that a busy machine's command latency stays a small part.
      const ended = await eventually(async () => {
        const r = (await stack.api(`/api/events/${eventId}`)).body;
        return r.status === 'ended' && r.vens.every((v: any) => v.samples >= 10) && r;
      }, 30_000);
      expect(within(ended.measured_shed_kw, requested), `measured ${ended.measured_shed_kw} kW`).toBeLessThanOrEqual(
        0.1,
      );
      // the VENs restore at the event's end; the next event plans with every circuit back
      await eventually(async () => {
        const { items } = (await stack.api('/api/vens?limit=100')).body;
        return items.every((v: any) => v.latest?.eventId === null);
      }, 15_000);
    },
    60_000,
  );
});
