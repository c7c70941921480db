// Measured shed of one VEN over an event window: baseline minus metered load.
//
// Baseline method ("10-in-10" style, as CAISO/NYISO use for demand response): the same clock window on each of the
// 10 days before the event; per day, the mean `usedPowerKw` of the samples outside any event (samples carrying an
// `eventId` are left out); the baseline is the mean of the day means of the days that have such samples. With no
// history at all, it falls back to the mean `baselinePowerKw` the VEN itself reports during the event (seed 001's
// metering: load plus what the event holds off). The metered load is the mean `usedPowerKw` over the event window
// so far. No weather or same-day adjustment. Pure: samples in, numbers out.

export const BASELINE_DAYS = 10;

export interface MeterSample {
  readonly usedPowerKw: number;
  readonly baselinePowerKw?: number;
  readonly eventId?: string;
}

export interface ShedMeasurement {
  readonly metered_kw: number | null;
  readonly baseline_kw: number | null;
  readonly baseline_source: 'history' | 'payload' | null;
  /** Prior days that contributed to a history baseline. */
  readonly baseline_days: number;
  readonly measured_shed_kw: number | null;
  readonly samples: number;
}

const mean = (values: readonly number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : null);
const round = (kw: number | null) => (kw === null ? null : Math.round(kw * 1000) / 1000);

/** `during`: samples in the event window; `priorDays`: the same window on each prior day (any order). */
export function measureShed(during: readonly MeterSample[], priorDays: readonly (readonly MeterSample[])[]): ShedMeasurement {
  const metered = mean(during.map((s) => s.usedPowerKw));
  const dayMeans = priorDays
    .map((day) => mean(day.filter((s) => s.eventId === undefined).map((s) => s.usedPowerKw)))
    .filter((m): m is number => m !== null);
  const history = mean(dayMeans);
  const payload = mean(during.flatMap((s) => (s.baselinePowerKw !== undefined ? [s.baselinePowerKw] : [])));
  const baseline = history ?? payload;
  return {
    metered_kw: round(metered),
    baseline_kw: round(baseline),
    baseline_source: history !== null ? 'history' : payload !== null ? 'payload' : null,
    baseline_days: dayMeans.length,
    measured_shed_kw: baseline !== null && metered !== null ? round(baseline - metered) : null,
    samples: during.length,
  };
}
