// How the DynamoDB time-series adapter packs records. A sample is every record of one series, device and time (one
// metering message's nine circuit records, say). What does not change from one sample to the next (the dimensions,
// a circuit's name, type, breaker, capacity, priority, critical) is its template, stored once per device; the sample
// keeps the template's id and, in order, the values that do change.
import { createHash } from 'node:crypto';
import type { MeasureValue, SeriesRecord } from './telemetry-store.js';
import type { SeriesName } from '../contracts/tables.js';

/** A circuit's or load's static description; every other measure is stored with each sample. */
const STATIC_MEASURES: Record<SeriesName, ReadonlySet<string>> = {
  ven_telemetry: new Set(),
  ven_load_sample: new Set(['name', 'type', 'breakerAmps', 'capacityKw', 'priority', 'critical']),
  winter_river_status: new Set(),
  // an asset's rating and limits, as its reading repeats them
  der_asset_sample: new Set(['asset_name', 'capacity_mw', 'min_mw', 'max_mw', 'energy_mwh']),
  edge_telemetry: new Set(),
};

/** One record of a sample: its dimensions, and its measures in order, `[name]` (stored per sample) or `[name, value]`. */
export interface RecordShape {
  readonly d: [string, string][];
  readonly m: ([string] | [string, MeasureValue])[];
}
export type Template = RecordShape[];
export type PackedSample = [templateId: string, ...values: MeasureValue[]];

export interface Sample {
  readonly series: SeriesName;
  readonly deviceId: string;
  readonly time: number;
  readonly records: SeriesRecord[];
}

/** What tells two records of one sample apart (the old sort-key suffix): the load id, if any. */
export const memberOf = (r: Pick<SeriesRecord, 'dimensions'>) => r.dimensions.load_id ?? '';

/** Records grouped into samples; a record repeated for the same member replaces the earlier one in its place. */
export function samplesOf(records: readonly SeriesRecord[]): Sample[] {
  const samples = new Map<string, { sample: Sample; members: Map<string, number> }>();
  for (const r of records) {
    const key = `${r.series}\u0000${r.deviceId}\u0000${r.time}`;
    let entry = samples.get(key);
    if (!entry) {
      entry = { sample: { series: r.series, deviceId: r.deviceId, time: r.time, records: [] }, members: new Map() };
      samples.set(key, entry);
    }
    const at = entry.members.get(memberOf(r));
    if (at === undefined) {
      entry.members.set(memberOf(r), entry.sample.records.length);
      entry.sample.records.push(r);
    } else {
      entry.sample.records[at] = r;
    }
  }
  return [...samples.values()].map((e) => e.sample);
}

export function pack(sample: Sample): { templateId: string; template: Template; packed: PackedSample } {
  const fixed = STATIC_MEASURES[sample.series];
  const template: Template = [];
  const values: MeasureValue[] = [];
  for (const r of sample.records) {
    const m: RecordShape['m'] = [];
    for (const name in r.measures) {
      const value = r.measures[name]!;
      if (fixed.has(name)) {
        m.push([name, value]);
      } else {
        m.push([name]);
        values.push(value);
      }
    }
    template.push({ d: Object.entries(r.dimensions), m });
  }
  const templateId = templateIdOf(template);
  return { templateId, template, packed: [templateId, ...values] };
}

export function unpack(sample: Omit<Sample, 'records'>, template: Template, packed: PackedSample): SeriesRecord[] {
  let next = 1;
  return template.map((shape) => {
    const measures: Record<string, MeasureValue> = {};
    for (const entry of shape.m) measures[entry[0]] = entry.length === 2 ? entry[1] : packed[next++]!;
    return {
      series: sample.series,
      deviceId: sample.deviceId,
      time: sample.time,
      dimensions: Object.fromEntries(shape.d),
      measures,
    };
  });
}

/** 48 bits of SHA-256: ids only need to differ among one device's templates. */
const templateIdOf = (template: Template) =>
  createHash('sha256').update(JSON.stringify(template)).digest('base64url').slice(0, 8);
