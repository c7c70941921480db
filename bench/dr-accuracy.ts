// 8. DR event accuracy: a fleet event on the simulated fleet lands within ±10% of the request.
import { join } from 'node:path';
import { startFleet } from '../device/fleet.js';
import { memoryLog } from '../device/log.js';
import { apiCaller, sleep, startTimedStack, type BenchContext } from './harness.js';
import { atMost, round, type BenchResult } from './stats.js';

const VENS = 40;
const REQUESTS_KW = [20, 60, 150, 300];
/**
 * Long enough that the first second of an event (the command on its way, the VEN's sample of that second still
 * unshed) does not decide the measured figure: at 6 s one such sample of six was −16% on the 20 kW event when the
 * machine was loaded.
 */
const EVENT_SEC = 30;

const venName = (i: number) => `ven-dr-${String(i).padStart(3, '0')}`;
const pct = (value: number, target: number) => ((value - target) / target) * 100;

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const names = Array.from({ length: VENS }, (_, i) => venName(i));
  const certs = await ctx.issue(names);
  const { stack } = await startTimedStack(ctx);
  const api = apiCaller(stack.config);
  const until = async <T>(what: string, check: () => Promise<T | false>, timeoutMs = 60_000): Promise<T> => {
    for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(250)) {
      const value = await check();
      if (value) return value;
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  const fleet = await startFleet({
    host: '127.0.0.1',
    port: stack.config.mqtt.port,
    caFile: ctx.ca.caFile,
    dataDir: join(ctx.dir, 'fleet-data', 'dr-accuracy'),
    devices: names.map((thingName) => ({ mode: 'ven' as const, thingName, ...certs.get(thingName)! })),
    intervals: { meteringMs: 1000 },
    log: memoryLog(),
  });
  ctx.onCleanup(() => fleet.stop());
  const fleetView = () => api('/api/vens?limit=1000').then((r) => r.items as Record<string, any>[]);
  await until(
    'every VEN reporting its loads',
    async () => (await fleetView()).filter((v) => v.online && v.latest?.shedLoads).length === VENS,
  );
  const available = round((await fleetView()).reduce((s, v) => s + (v.latest.availableShedKw as number), 0));

  const events: { requested: number; allocated: number; acknowledged: number; measured: number; vens: number }[] = [];
  for (const requested of REQUESTS_KW) {
    const { eventId } = await api('/api/events', { shed_kw: requested, duration_sec: EVENT_SEC });
    const report = await until(`event ${eventId} to end`, async () => {
      const r = await api(`/api/events/${eventId}`);
      return r.status === 'ended' && r.vens.every((v: any) => v.status === 'acked') && r;
    });
    events.push({
      requested,
      allocated: report.allocated_kw,
      acknowledged: report.acknowledged_kw,
      measured: report.measured_shed_kw,
      vens: report.vens.length,
    });
    await until('the VENs to restore', async () => (await fleetView()).every((v) => v.latest?.eventId === null));
  }
  await fleet.stop();
  await stack.close();

  const worst = (key: 'acknowledged' | 'measured') =>
    Math.max(...events.map((e) => Math.abs(pct(e[key], e.requested))));
  const signed = (v: number, target: number) =>
    `${round(v)} kW (${pct(v, target) >= 0 ? '+' : ''}${round(pct(v, target), 1)}%)`;
  return {
    id: 'dr-accuracy',
    title: '8. DR events on target: requested vs acknowledged vs measured shed',
    method:
      `A local stack and ${VENS} simulated VENs in the bench process (device/fleet.ts: the agent on aws-iot-device-sdk-v2, the ` +
      `default 8-circuit panel, economy profile, a sample a second), ${available} kW sheddable in all when it starts. One fleet ` +
      `event at a time (POST /api/events, ${EVENT_SEC} s) for each of ${REQUESTS_KW.join(', ')} kW; after it ends, the report of ` +
      "GET /api/events/{eventId}: acknowledged = the VENs' ACKed actual_shed_kw, measured = baseline less metered load over the " +
      "event (a fresh stack has no history, so the VENs' own baselinePowerKw). The next event waits for every VEN to restore.",
    figures: { vens: VENS, availableKw: available, events },
    rows: events.map((e) => [
      `${e.requested} kW over ${e.vens} VENs`,
      `allocated ${signed(e.allocated, e.requested)}, acknowledged ${signed(e.acknowledged, e.requested)}, measured ${signed(e.measured, e.requested)}`,
    ]),
    goals: [
      atMost('acknowledged shed, worst |error|', worst('acknowledged'), 10, '%'),
      atMost('measured shed, worst |error|', worst('measured'), 10, '%'),
    ],
    notes: [
      'Before this change the allocation split kW smoothly and each VEN rounded its share up by a whole circuit: 20 kW ' +
        'requested came back as 26.7 kW acknowledged on the three-VEN local fleet (+33%). Now the allocation hands out whole ' +
        'loads (lambdas/core/dr/allocation.ts) and the VEN sheds exactly those (lambdas/core/contracts/shed-plan.ts); what remains is the ' +
        "drift of the circuits' draw between the metering the plan used and the event.",
    ],
    seconds: (Date.now() - started) / 1000,
  };
}
