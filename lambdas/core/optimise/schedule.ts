// A battery's charge/discharge schedule over a price series, as a linear programme solved by HiGHS, and the two
// schedules it is measured against: do nothing, and the naive rule (charge in the cheapest slots, discharge in the
// dearest). Pure: the solver comes in as an argument; no clock, no I/O. docs/concepts.md, "Battery schedules", says
// the formulation in words.
import { ValidationError } from '../contracts/errors.js';
import type { Solver } from './solver.js';
import { SLOT_MINUTES } from './tariff.js';

/** One battery as the optimiser sees it: kW and kWh, SOC in % of energy. */
export interface Battery {
  readonly energy_kwh: number;
  readonly max_charge_kw: number;
  readonly max_discharge_kw: number;
  /** Energy out per energy in, (0, 1]; the loss is taken on the way out, so a full battery delivers energy × efficiency. */
  readonly round_trip_efficiency: number;
  /** Hard limits: never crossed. */
  readonly min_soc_pct: number;
  readonly max_soc_pct: number;
  /** Soft limits: crossed only when paying the penalty is cheaper than keeping them (a commitment needs it). */
  readonly soft_min_soc_pct: number;
  readonly soft_max_soc_pct: number;
  readonly initial_soc_pct: number;
  /** The SOC the day must end at or above (so the saving is not borrowed from tomorrow). */
  readonly final_soc_pct: number;
}

/** Slots `from_slot` (inclusive) to `to_slot` (exclusive) where the battery must deliver at least `min_discharge_kw` net. */
export interface DrCommitment {
  readonly from_slot: number;
  readonly to_slot: number;
  readonly min_discharge_kw: number;
}

export interface ScheduleProblem {
  readonly battery: Battery;
  /** Price per kWh of each slot (paid on import, earned on export). */
  readonly prices: readonly number[];
  /** The site's load forecast per slot in kW; zero when absent. */
  readonly load_kw?: readonly number[];
  /** Site connection limits in kW on the net of load and battery; none when absent. */
  readonly import_limit_kw?: number;
  readonly export_limit_kw?: number;
  readonly dr_commitments?: readonly DrCommitment[];
  /** Paid per kWh outside the soft SOC limits, for each slot that ends outside them. */
  readonly soft_penalty_per_kwh: number;
}

export const SLOT_HOURS = SLOT_MINUTES / 60;

export type ConstraintName =
  | 'charge_power'
  | 'discharge_power'
  | 'soc_hard_min'
  | 'soc_hard_max'
  | 'soc_soft_min'
  | 'soc_soft_max'
  | 'site_import'
  | 'site_export'
  | 'dr_commitment'
  | 'final_soc';

export interface Penalties {
  /** kWh·slots outside the soft SOC limits, and what they cost. */
  readonly soft_soc_kwh: number;
  readonly soft_soc: number;
  /** Energy over the site limits, short of the DR commitments, and short of the final SOC: only when unavoidable. */
  readonly site_limit_kwh: number;
  readonly dr_shortfall_kwh: number;
  readonly final_shortfall_kwh: number;
}

/** What a schedule costs on the problem's prices: the energy bill of load and battery, and its penalties. */
export interface Evaluation {
  /** SOC in kWh at the end of each slot. */
  readonly soc_kwh: readonly number[];
  /** Σ price × (load + charge − discharge) × slot hours. */
  readonly cost: number;
  readonly penalties: Penalties;
  /** cost + every penalty: what the LP minimises. */
  readonly objective: number;
}

export interface Schedule extends Evaluation {
  readonly charge_kw: readonly number[];
  readonly discharge_kw: readonly number[];
  /** Constraints whose relaxation would lower the objective (a non-zero dual), with the slots where they do. */
  readonly binding: readonly { readonly constraint: ConstraintName; readonly slots: readonly number[] }[];
}

/** The checks a schema cannot make; a ValidationError names the field as the API body spells it. */
export function checkProblem(p: ScheduleProblem, slots = p.prices.length): void {
  const b = p.battery;
  const fail = (field: string, message: string): never => {
    throw new ValidationError(field, `${field}: ${message}`);
  };
  if (p.prices.length !== slots)
    fail('prices', `must hold ${slots} prices, one per ${SLOT_MINUTES}-minute slot (got ${p.prices.length})`);
  if (slots < 1) fail('prices', 'must hold at least one price');
  if (p.load_kw && p.load_kw.length !== slots)
    fail('load_kw', `must hold ${slots} values, one per slot (got ${p.load_kw.length})`);
  if (!(b.energy_kwh > 0)) fail('battery.energy_kwh', 'must be positive');
  if (!(b.max_charge_kw >= 0)) fail('battery.max_charge_kw', 'must not be negative');
  if (!(b.max_discharge_kw >= 0)) fail('battery.max_discharge_kw', 'must not be negative');
  if (!(b.round_trip_efficiency > 0 && b.round_trip_efficiency <= 1))
    fail('battery.round_trip_efficiency', 'must be in (0, 1]');
  if (b.min_soc_pct > b.max_soc_pct) fail('battery.min_soc_pct', 'must not exceed max_soc_pct');
  if (b.soft_min_soc_pct > b.soft_max_soc_pct) fail('battery.soft_min_soc_pct', 'must not exceed soft_max_soc_pct');
  if (b.initial_soc_pct < b.min_soc_pct || b.initial_soc_pct > b.max_soc_pct) {
    fail('initial_soc_pct', `must be within the hard limits ${b.min_soc_pct}–${b.max_soc_pct} %`);
  }
  if (b.final_soc_pct < b.min_soc_pct || b.final_soc_pct > b.max_soc_pct) {
    fail('final_soc_pct', `must be within the hard limits ${b.min_soc_pct}–${b.max_soc_pct} %`);
  }
  if (p.import_limit_kw !== undefined && !(p.import_limit_kw >= 0))
    fail('site.import_limit_kw', 'must not be negative');
  if (p.export_limit_kw !== undefined && !(p.export_limit_kw >= 0))
    fail('site.export_limit_kw', 'must not be negative');
  for (const [i, c] of (p.dr_commitments ?? []).entries()) {
    if (!Number.isInteger(c.from_slot) || c.from_slot < 0 || c.from_slot >= slots)
      fail(`dr_commitments.${i}.from_slot`, `must be a slot 0–${slots - 1}`);
    if (!Number.isInteger(c.to_slot) || c.to_slot <= c.from_slot || c.to_slot > slots) {
      fail(`dr_commitments.${i}.to_slot`, `must be a slot after from_slot, at most ${slots}`);
    }
    if (!(c.min_discharge_kw > 0)) fail(`dr_commitments.${i}.min_discharge_kw`, 'must be positive');
  }
}

/** The problem in kWh, one value per slot. */
function prepare(p: ScheduleProblem) {
  const b = p.battery;
  const n = p.prices.length;
  const kwh = (pct: number) => (b.energy_kwh * pct) / 100;
  const hardMin = kwh(b.min_soc_pct);
  const hardMax = kwh(b.max_soc_pct);
  const commitment = new Array<number>(n).fill(0);
  for (const c of p.dr_commitments ?? []) {
    for (let t = c.from_slot; t < c.to_slot; t++) commitment[t] = Math.max(commitment[t]!, c.min_discharge_kw);
  }
  const softPenalty = p.soft_penalty_per_kwh;
  const maxPrice = Math.max(...p.prices.map(Math.abs));
  return {
    n,
    prices: p.prices,
    load: p.load_kw ?? new Array<number>(n).fill(0),
    charge: b.max_charge_kw,
    discharge: b.max_discharge_kw,
    etaIn: 1,
    etaOut: b.round_trip_efficiency,
    hardMin,
    hardMax,
    // a soft limit outside the hard ones changes nothing
    softMin: Math.min(Math.max(kwh(b.soft_min_soc_pct), hardMin), hardMax),
    softMax: Math.max(Math.min(kwh(b.soft_max_soc_pct), hardMax), hardMin),
    initial: kwh(b.initial_soc_pct),
    final: kwh(b.final_soc_pct),
    importLimit: p.import_limit_kw ?? Number.POSITIVE_INFINITY,
    exportLimit: p.export_limit_kw ?? Number.POSITIVE_INFINITY,
    commitment,
    softPenalty,
    /**
     * The price of a hard-to-meet limit (site limits, DR commitments, the final SOC): above anything a kWh can earn or
     * save elsewhere in the day (every slot's soft penalty plus a round trip at the dearest price), so it is paid only
     * when nothing else can meet the limit, and the schedule is never infeasible.
     */
    big: 10 * (n * softPenalty + (2 * maxPrice) / b.round_trip_efficiency) + 1,
  };
}
type Prepared = ReturnType<typeof prepare>;

/** Prices a schedule (kW per slot) the way the LP does. Used for the optimum, the naive rule and doing nothing. */
export function evaluate(p: ScheduleProblem, charge: readonly number[], discharge: readonly number[]): Evaluation {
  return evaluatePrepared(prepare(p), charge, discharge);
}

/** Excess below this (kW or kWh) is the solver's feasibility tolerance, not a limit broken. */
const NOISE = 1e-6;
const over = (v: number) => (v > NOISE ? v : 0);

function evaluatePrepared(q: Prepared, charge: readonly number[], discharge: readonly number[]): Evaluation {
  const h = SLOT_HOURS;
  let s = q.initial;
  let cost = 0;
  let softKwh = 0;
  let site = 0;
  let dr = 0;
  const soc: number[] = [];
  for (let t = 0; t < q.n; t++) {
    const c = charge[t]!;
    const d = discharge[t]!;
    s += q.etaIn * h * c - (h * d) / q.etaOut;
    soc.push(s);
    const grid = q.load[t]! + c - d;
    cost += q.prices[t]! * h * grid;
    softKwh += over(q.softMin - s) + over(s - q.softMax);
    site += h * (over(grid - q.importLimit) + over(-grid - q.exportLimit));
    if (q.commitment[t]! > 0) dr += h * over(q.commitment[t]! - (d - c));
  }
  const finalShort = over(q.final - s);
  const penalties: Penalties = {
    soft_soc_kwh: softKwh,
    soft_soc: softKwh * q.softPenalty,
    site_limit_kwh: site,
    dr_shortfall_kwh: dr,
    final_shortfall_kwh: finalShort,
  };
  return { soc_kwh: soc, cost, penalties, objective: cost + penalties.soft_soc + q.big * (site + dr + finalShort) };
}

/** Columns of one slot, in this order. */
const COL = { charge: 0, discharge: 1, soc: 2, below: 3, above: 4, overImport: 5, overExport: 6, short: 7 } as const;
const PER_SLOT = 8;

/** An LP in HiGHS's form, rows built one at a time (CSR). */
class LpBuilder {
  readonly cost: number[] = [];
  readonly lower: number[] = [];
  readonly upper: number[] = [];
  readonly rowLower: number[] = [];
  readonly rowUpper: number[] = [];
  readonly starts: number[] = [0];
  readonly index: number[] = [];
  readonly value: number[] = [];
  offset = 0;

  col(cost: number, lower: number, upper: number): number {
    this.cost.push(cost);
    this.lower.push(lower);
    this.upper.push(upper);
    return this.cost.length - 1;
  }

  row(lower: number, upper: number, terms: readonly (readonly [number, number])[]): number {
    for (const [col, coef] of terms) {
      this.index.push(col);
      this.value.push(coef);
    }
    this.starts.push(this.index.length);
    this.rowLower.push(lower);
    this.rowUpper.push(upper);
    return this.rowLower.length - 1;
  }
}

interface Layout {
  readonly q: Prepared;
  readonly firstCol: number;
  readonly rows: { softMin: number[]; softMax: number[]; site: number[]; dr: Map<number, number>; final: number };
}

/** Adds one battery's columns and rows to the LP. */
function addBattery(lp: LpBuilder, q: Prepared, inf: number): Layout {
  const h = SLOT_HOURS;
  const firstCol = lp.cost.length;
  const at = (t: number, k: number) => firstCol + t * PER_SLOT + k;
  const hasImport = Number.isFinite(q.importLimit);
  const hasExport = Number.isFinite(q.exportLimit);
  for (let t = 0; t < q.n; t++) {
    const price = q.prices[t]!;
    lp.col(price * h, 0, q.charge);
    lp.col(-price * h, 0, q.discharge);
    lp.col(0, q.hardMin, q.hardMax);
    lp.col(q.softPenalty, 0, Math.max(0, q.softMin - q.hardMin));
    lp.col(q.softPenalty, 0, Math.max(0, q.hardMax - q.softMax));
    lp.col(q.big * h, 0, hasImport ? inf : 0);
    lp.col(q.big * h, 0, hasExport ? inf : 0);
    lp.col(q.big * h, 0, q.commitment[t]!);
    lp.offset += price * h * q.load[t]!;
  }
  const finalShort = lp.col(q.big, 0, inf);
  const rows: Layout['rows'] = { softMin: [], softMax: [], site: [], dr: new Map(), final: -1 };
  for (let t = 0; t < q.n; t++) {
    // soc[t] − soc[t−1] − ηin·h·charge + h/ηout·discharge = 0 (soc[−1] is the initial SOC)
    const previous: [number, number][] = t === 0 ? [] : [[at(t - 1, COL.soc), -1]];
    const rhs = t === 0 ? q.initial : 0;
    lp.row(rhs, rhs, [
      [at(t, COL.soc), 1],
      ...previous,
      [at(t, COL.charge), -q.etaIn * h],
      [at(t, COL.discharge), h / q.etaOut],
    ]);
    rows.softMin.push(
      lp.row(q.softMin, inf, [
        [at(t, COL.soc), 1],
        [at(t, COL.below), 1],
      ]),
    );
    rows.softMax.push(
      lp.row(-inf, q.softMax, [
        [at(t, COL.soc), 1],
        [at(t, COL.above), -1],
      ]),
    );
    const load = q.load[t]!;
    rows.site.push(
      lp.row(hasExport ? -q.exportLimit - load : -inf, hasImport ? q.importLimit - load : inf, [
        [at(t, COL.charge), 1],
        [at(t, COL.discharge), -1],
        [at(t, COL.overImport), -1],
        [at(t, COL.overExport), 1],
      ]),
    );
    if (q.commitment[t]! > 0) {
      rows.dr.set(
        t,
        lp.row(q.commitment[t]!, inf, [
          [at(t, COL.discharge), 1],
          [at(t, COL.charge), -1],
          [at(t, COL.short), 1],
        ]),
      );
    }
  }
  rows.final = lp.row(q.final, inf, [
    [at(q.n - 1, COL.soc), 1],
    [finalShort, 1],
  ]);
  return { q, firstCol, rows };
}

const TOL = 1e-7;

/** The constraints with a non-zero dual, per slot: relaxing them would lower the objective. */
function bindingOf(
  layout: Layout,
  x: Float64Array,
  colDual: Float64Array,
  rowValue: Float64Array,
  rowDual: Float64Array,
  lp: LpBuilder,
) {
  const { q, firstCol, rows } = layout;
  const found = new Map<ConstraintName, number[]>();
  const add = (name: ConstraintName, t: number) => found.set(name, [...(found.get(name) ?? []), t]);
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  const tight = (d: number) => Math.abs(d) > TOL;
  for (let t = 0; t < q.n; t++) {
    const col = (k: number) => firstCol + t * PER_SLOT + k;
    const cd = (k: number) => colDual[col(k)]!;
    if (tight(cd(COL.charge)) && q.charge > 0 && near(x[col(COL.charge)]!, q.charge)) add('charge_power', t);
    if (tight(cd(COL.discharge)) && q.discharge > 0 && near(x[col(COL.discharge)]!, q.discharge))
      add('discharge_power', t);
    if (tight(cd(COL.soc)) && near(x[col(COL.soc)]!, q.hardMin)) add('soc_hard_min', t);
    if (tight(cd(COL.soc)) && near(x[col(COL.soc)]!, q.hardMax)) add('soc_hard_max', t);
    // a soft slack at its upper bound means the hard limit holds the SOC there
    if (tight(cd(COL.below)) && x[col(COL.below)]! > TOL) add('soc_hard_min', t);
    if (tight(cd(COL.above)) && x[col(COL.above)]! > TOL) add('soc_hard_max', t);
    if (tight(rowDual[rows.softMin[t]!]!)) add('soc_soft_min', t);
    if (tight(rowDual[rows.softMax[t]!]!)) add('soc_soft_max', t);
    const site = rows.site[t]!;
    if (tight(rowDual[site]!)) add(near(rowValue[site]!, lp.rowUpper[site]!) ? 'site_import' : 'site_export', t);
    const dr = rows.dr.get(t);
    if (dr !== undefined && tight(rowDual[dr]!)) add('dr_commitment', t);
  }
  if (tight(rowDual[rows.final]!)) add('final_soc', q.n - 1);
  return [...found].map(([constraint, slots]) => ({ constraint, slots: [...new Set(slots)].sort((a, b) => a - b) }));
}

/**
 * The cheapest schedule for each problem, all in one LP (the batteries are independent, so this is the same as one
 * LP each; it measures the solver on the larger model). A problem the checks refuse throws a ValidationError.
 */
export function optimiseSchedules(solver: Solver, problems: readonly ScheduleProblem[]): Schedule[] {
  for (const p of problems) checkProblem(p);
  const lp = new LpBuilder();
  const inf = solver.infinity;
  const layouts = problems.map((p) => addBattery(lp, prepare(p), inf));
  const numCols = lp.cost.length;
  const numRows = lp.rowLower.length;
  const model = solver.createModel({
    numCols,
    numRows,
    offset: lp.offset,
    colCost: lp.cost,
    colLower: lp.lower,
    colUpper: lp.upper,
    rowLower: lp.rowLower,
    rowUpper: lp.rowUpper,
    matrix: { format: 'csr', numRows, numCols, starts: lp.starts, indices: lp.index, values: lp.value },
  });
  try {
    model.options.set({ output_flag: false });
    model.run();
    const status = model.getModelStatus();
    if (status !== solver.constants.modelStatus.optimal) {
      throw new Error(
        `HiGHS ended with model status ${status}, not optimal: the schedule LP is built never to be infeasible`,
      );
    }
    const { colValue, colDual, rowValue, rowDual } = model.getSolution();
    const objective = model.getObjectiveValue();
    const schedules = layouts.map((layout) => readSchedule(layout, colValue, colDual, rowValue, rowDual, lp));
    const total = schedules.reduce((s, x) => s + x.objective, 0);
    // what the solver's feasibility tolerance (1e-7 per row) may be worth at the penalties' prices
    const slack = layouts.reduce((s, l) => s + l.q.big * l.q.n * 1e-7, 0);
    if (Math.abs(total - objective) > 1e-6 * (1 + Math.abs(objective)) + slack) {
      throw new Error(
        `the LP's objective ${objective} is not the schedule's price ${total}: the LP and evaluate() disagree`,
      );
    }
    return schedules;
  } finally {
    model.dispose();
  }
}

/** The cheapest schedule for one battery. */
export function optimiseSchedule(solver: Solver, problem: ScheduleProblem): Schedule {
  return optimiseSchedules(solver, [problem])[0]!;
}

function readSchedule(
  layout: Layout,
  x: Float64Array,
  colDual: Float64Array,
  rowValue: Float64Array,
  rowDual: Float64Array,
  lp: LpBuilder,
): Schedule {
  const { q, firstCol } = layout;
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, Math.abs(v) < 1e-9 ? 0 : v));
  const charge: number[] = [];
  const discharge: number[] = [];
  for (let t = 0; t < q.n; t++) {
    charge.push(clamp(x[firstCol + t * PER_SLOT + COL.charge]!, q.charge));
    discharge.push(clamp(x[firstCol + t * PER_SLOT + COL.discharge]!, q.discharge));
  }
  return {
    charge_kw: charge,
    discharge_kw: discharge,
    ...evaluatePrepared(q, charge, discharge),
    binding: bindingOf(layout, x, colDual, rowValue, rowDual, lp),
  };
}

/** Doing nothing: the battery idles at its initial SOC. */
export function doNothing(p: ScheduleProblem): Evaluation & { charge_kw: number[]; discharge_kw: number[] } {
  const zeros = new Array<number>(p.prices.length).fill(0);
  return { charge_kw: zeros, discharge_kw: zeros, ...evaluate(p, zeros, zeros) };
}

/**
 * The naive rule: full power in the cheapest slots until the soft window is full, full power out in the dearest
 * until it is empty, in time order and within the power, SOC and site limits; a DR commitment is discharged first.
 * Then, if the day would end below the final SOC, it tops up in the cheapest slots left. Like every schedule it is
 * a feasible point of the LP (whose slacks price each limit it breaks), so the optimum's objective never exceeds its.
 */
export function naiveSchedule(p: ScheduleProblem): Evaluation & { charge_kw: number[]; discharge_kw: number[] } {
  checkProblem(p);
  const q = prepare(p);
  const h = SLOT_HOURS;
  const lo = q.softMin;
  const hi = q.softMax;
  const usable = Math.max(0, hi - lo);
  const byPrice = [...q.prices.keys()].sort((a, b) => q.prices[a]! - q.prices[b]! || a - b);
  const chargeSlots = new Set(
    q.charge > 0 ? byPrice.slice(0, Math.ceil(usable / (q.etaIn * q.charge * h) - 1e-9)) : [],
  );
  const dischargeCount = q.discharge > 0 ? Math.ceil((usable * q.etaOut) / (q.discharge * h) - 1e-9) : 0;
  const dischargeSlots = new Set(
    byPrice
      .filter((t) => !chargeSlots.has(t))
      .reverse()
      .slice(0, dischargeCount),
  );
  const importRoom = (t: number, d: number) => Math.max(0, q.importLimit - q.load[t]! + d);
  const exportRoom = (t: number, c: number) => Math.max(0, q.exportLimit + q.load[t]! + c);

  const charge = new Array<number>(q.n).fill(0);
  const discharge = new Array<number>(q.n).fill(0);
  let s = q.initial;
  for (let t = 0; t < q.n; t++) {
    if (q.commitment[t]! > 0) {
      discharge[t] = Math.min(
        q.discharge,
        Math.max(q.commitment[t]!, dischargeSlots.has(t) ? q.discharge : 0),
        Math.max(0, ((s - q.hardMin) * q.etaOut) / h),
      );
    } else if (chargeSlots.has(t)) {
      charge[t] = Math.min(q.charge, Math.max(0, (hi - s) / (q.etaIn * h)), importRoom(t, 0));
    } else if (dischargeSlots.has(t)) {
      discharge[t] = Math.min(q.discharge, Math.max(0, ((s - lo) * q.etaOut) / h), exportRoom(t, 0));
    }
    s += q.etaIn * h * charge[t]! - (h * discharge[t]!) / q.etaOut;
  }
  // top up to the final SOC in the cheapest slots still free, never above the soft maximum later in the day
  let deficit = q.final - s;
  for (const t of byPrice) {
    if (deficit <= 1e-9) break;
    if (discharge[t]! > 0 || q.commitment[t]! > 0) continue;
    const soc = evaluatePrepared(q, charge, discharge).soc_kwh;
    const headroom = Math.min(...soc.slice(t).map((v) => hi - v));
    const add = Math.min(
      q.charge - charge[t]!,
      importRoom(t, 0) - charge[t]!,
      deficit / (q.etaIn * h),
      Math.max(0, headroom) / (q.etaIn * h),
    );
    if (add <= 0) continue;
    charge[t] = charge[t]! + add;
    deficit -= add * q.etaIn * h;
  }
  return { charge_kw: charge, discharge_kw: discharge, ...evaluatePrepared(q, charge, discharge) };
}
