// `POST /api/optimise/schedule`: a battery's cheapest 24 h schedule at 15-minute resolution against a price series or
// a time-of-use tariff (core/optimise), with what the naive rule and doing nothing would cost on the same prices.
// The battery comes in the body or from the inventory (`asset_id`: its power, energy and SOC window, and its SOC
// from the gateway's latest reading). It plans only: nothing is sent to a device.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { NotFoundError, UnprocessableError, ValidationError } from '../core/contracts/errors.js';
import { readingsOf } from '../core/ingest/der.js';
import {
  checkProblem,
  doNothing,
  naiveSchedule,
  optimiseSchedule,
  type Battery,
  type ScheduleProblem,
} from '../core/optimise/schedule.js';
import { loadSolver } from '../core/optimise/solver.js';
import { SLOT_MINUTES, SLOT_MS, tariffPrices } from '../core/optimise/tariff.js';
import { parseBody } from './body.js';
import type { ApiPorts } from './ports.js';

/** A day ahead at 15 minutes: the length a `prices` series must have. */
export const PRICE_SLOTS = 96;
/** Default soft-limit penalty, per kWh outside per slot: well above any energy price, so the limits bend only for a commitment. */
export const DEFAULT_SOFT_PENALTY = 1;

const pct = z.number().finite().min(0).max(100);
const price = z.number().finite().min(-1000).max(1000);
const kw = z.number().finite().min(0).max(1_000_000);
const hhmm = z.string().max(5);

const batterySchema = z.strictObject({
  energy_kwh: z.number().finite().positive('must be positive').max(10_000_000),
  max_charge_kw: kw,
  max_discharge_kw: kw,
  round_trip_efficiency: z.number().finite().gt(0, 'must be above 0').max(1).default(0.9),
  min_soc_pct: pct.default(0),
  max_soc_pct: pct.default(100),
  /** Default to the hard limits. */
  soft_min_soc_pct: pct.optional(),
  soft_max_soc_pct: pct.optional(),
});

export const optimiseBodySchema = z
  .strictObject({
    asset_id: z.string().min(1).max(128).optional(),
    battery: batterySchema.optional(),
    /** Default: the asset's latest reading (`soc_pct`, else `soc_mwh` ÷ energy), else the middle of its SOC window. */
    initial_soc_pct: pct.optional(),
    /** Default: the initial SOC. */
    final_soc_pct: pct.optional(),
    prices: z.array(price).max(1000).optional(),
    /** Start of the first slot of `prices`, on a 15-minute boundary; default the current slot. */
    start: z.string().max(40).optional(),
    tariff: z
      .strictObject({
        time_zone: z.string().min(1).max(64),
        date: z.string().max(10),
        periods: z.array(z.strictObject({ start: hhmm, end: hhmm, price })).max(96),
        default_price: price,
      })
      .optional(),
    load_kw: z.array(z.number().finite().min(-1_000_000).max(1_000_000)).max(1000).optional(),
    site: z.strictObject({ import_limit_kw: kw.optional(), export_limit_kw: kw.optional() }).optional(),
    dr_commitments: z
      .array(
        z.strictObject({ from_slot: z.number().int().min(0), to_slot: z.number().int().min(1), min_discharge_kw: kw }),
      )
      .max(100)
      .optional(),
    soft_penalty_per_kwh: z.number().finite().min(0).max(1_000_000).default(DEFAULT_SOFT_PENALTY),
  })
  .refine((b) => (b.asset_id === undefined) !== (b.battery === undefined), {
    message: 'give either asset_id or battery',
    path: ['asset_id'],
  })
  .refine((b) => (b.prices === undefined) !== (b.tariff === undefined), {
    message: 'give either prices or tariff',
    path: ['prices'],
  })
  .refine((b) => b.tariff === undefined || b.start === undefined, {
    message: 'a tariff starts at local midnight of its date: leave start out',
    path: ['start'],
  });
type OptimiseBody = z.infer<typeof optimiseBodySchema>;

type BatteryLimits = Omit<Battery, 'initial_soc_pct' | 'final_soc_pct'>;

/** The battery from the body, its soft limits defaulting to its hard ones. */
function batteryFromBody(b: NonNullable<OptimiseBody['battery']>): BatteryLimits {
  return {
    ...b,
    soft_min_soc_pct: b.soft_min_soc_pct ?? b.min_soc_pct,
    soft_max_soc_pct: b.soft_max_soc_pct ?? b.max_soc_pct,
  };
}

/** An inventory BESS in kW and kWh; its SOC window is kept as both hard and soft limits. */
async function batteryFromInventory(
  ports: ApiPorts,
  assetId: string,
): Promise<{ limits: BatteryLimits; socPct?: number }> {
  const asset = await ports.inventory.getAsset(assetId);
  if (!asset) throw new NotFoundError(`asset ${assetId}`);
  if (asset.asset_type !== 'bess')
    throw new UnprocessableError('asset_id', `asset_id: ${assetId} is a ${asset.asset_type} asset, not a battery`);
  if (asset.energy_mwh === undefined) {
    throw new UnprocessableError(
      'asset_id',
      `asset_id: ${assetId} has no energy_mwh in the inventory: give the battery in the body`,
    );
  }
  const min = asset.min_soc_pct ?? 0;
  const max = asset.max_soc_pct ?? 100;
  const limits: BatteryLimits = {
    energy_kwh: asset.energy_mwh * 1000,
    max_charge_kw: Math.max(0, -asset.min_mw) * 1000,
    max_discharge_kw: Math.max(0, asset.max_mw) * 1000,
    // the inventory keeps no efficiency per asset: the inventory file's default
    round_trip_efficiency: 0.9,
    min_soc_pct: min,
    max_soc_pct: max,
    soft_min_soc_pct: min,
    soft_max_soc_pct: max,
  };
  const gateway = await ports.registry.get(asset.gateway);
  const reading = readingsOf(gateway?.latest).get(assetId);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const stored = num(reading?.soc_mwh);
  const reported =
    num(reading?.soc_pct) ??
    (stored !== undefined ? (stored / (num(reading?.energy_mwh) || asset.energy_mwh)) * 100 : undefined);
  // a reading outside the window the gateway keeps is held to it: the LP's hard limits must contain the start
  const socPct = reported !== undefined ? Math.min(max, Math.max(min, reported)) : undefined;
  return { limits, ...(socPct !== undefined && { socPct }) };
}

/** The slots' start instants and prices, from the price series or the tariff. */
function priceSlots(body: OptimiseBody): { starts: number[]; prices: number[] } {
  if (body.tariff) {
    const day = tariffPrices(body.tariff, body.tariff.date);
    return { starts: day.slots.map((s) => s.start), prices: day.slots.map((s) => s.price) };
  }
  const prices = body.prices!;
  if (prices.length !== PRICE_SLOTS) {
    throw new ValidationError(
      'prices',
      `prices: must hold ${PRICE_SLOTS} prices, one per ${SLOT_MINUTES}-minute slot of 24 h (got ${prices.length})`,
    );
  }
  let start = Math.floor(Date.now() / SLOT_MS) * SLOT_MS;
  if (body.start !== undefined) {
    start = Date.parse(body.start);
    if (!Number.isFinite(start) || !/^\d{4}-\d{2}-\d{2}T/.test(body.start))
      throw new ValidationError('start', 'start: must be an ISO 8601 date-time');
    if (start % SLOT_MS !== 0)
      throw new ValidationError('start', `start: must fall on a ${SLOT_MINUTES}-minute boundary`);
  }
  return { starts: prices.map((_, i) => start + i * SLOT_MS), prices };
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;
const money = (v: number) => Math.round(v * 10_000) / 10_000;

export async function postOptimiseSchedule(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const body = parseBody(optimiseBodySchema, event);
  const { starts, prices } = priceSlots(body);
  const fromAsset = body.asset_id !== undefined ? await batteryFromInventory(ports, body.asset_id) : undefined;
  const limits = fromAsset?.limits ?? batteryFromBody(body.battery!);
  const initial = body.initial_soc_pct ?? fromAsset?.socPct ?? (limits.min_soc_pct + limits.max_soc_pct) / 2;
  const socSource =
    body.initial_soc_pct !== undefined ? 'body' : fromAsset?.socPct !== undefined ? 'telemetry' : 'default';
  const battery: Battery = { ...limits, initial_soc_pct: initial, final_soc_pct: body.final_soc_pct ?? initial };
  const problem: ScheduleProblem = {
    battery,
    prices,
    ...(body.load_kw && { load_kw: body.load_kw }),
    ...(body.site?.import_limit_kw !== undefined && { import_limit_kw: body.site.import_limit_kw }),
    ...(body.site?.export_limit_kw !== undefined && { export_limit_kw: body.site.export_limit_kw }),
    ...(body.dr_commitments && { dr_commitments: body.dr_commitments }),
    soft_penalty_per_kwh: body.soft_penalty_per_kwh,
  };
  checkProblem(problem, starts.length);
  const solver = await loadSolver();
  const began = performance.now();
  const schedule = optimiseSchedule(solver, problem);
  const solveMs = performance.now() - began;
  const naive = naiveSchedule(problem);
  const idle = doNothing(problem);
  const load = problem.load_kw ?? [];
  const priced = (e: { cost: number; objective: number }) => ({ cost: money(e.cost), objective: money(e.objective) });
  return {
    ...(body.asset_id !== undefined && { asset_id: body.asset_id }),
    battery,
    initial_soc_source: socSource,
    slot_minutes: SLOT_MINUTES,
    start: new Date(starts[0]!).toISOString(),
    slots: starts.map((start, t) => ({
      start: new Date(start).toISOString(),
      price: prices[t]!,
      load_kw: r3(load[t] ?? 0),
      charge_kw: r3(schedule.charge_kw[t]!),
      discharge_kw: r3(schedule.discharge_kw[t]!),
      grid_kw: r3((load[t] ?? 0) + schedule.charge_kw[t]! - schedule.discharge_kw[t]!),
      soc_kwh: r3(schedule.soc_kwh[t]!),
      soc_pct: r3((schedule.soc_kwh[t]! / battery.energy_kwh) * 100),
    })),
    cost: money(schedule.cost),
    objective: money(schedule.objective),
    penalties: Object.fromEntries(Object.entries(schedule.penalties).map(([k, v]) => [k, money(v)])),
    binding: schedule.binding,
    naive: priced(naive),
    do_nothing: priced(idle),
    saving: { vs_naive: money(naive.cost - schedule.cost), vs_do_nothing: money(idle.cost - schedule.cost) },
    solver: { name: 'HiGHS', version: solver.version.string, solve_ms: Math.round(solveMs * 10) / 10 },
  };
}
