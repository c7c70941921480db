// Hand-built asset specs for the DER tests: a site's worth of each type with round numbers.
import type { BessSpec, EvSpec, PvSpec, WindSpec } from '../../device/site.js';

export const bess = (asset_id: string, over: Partial<BessSpec> = {}): BessSpec => ({
  asset_id,
  site_id: 's',
  asset_type: 'bess',
  capacity_mw: 4,
  energy_mwh: 4,
  min_mw: -4,
  max_mw: 4,
  min_soc_pct: 10,
  max_soc_pct: 90,
  initial_soc_pct: 50,
  efficiency: 1,
  weight: 4,
  ...over,
});

export const pv = (asset_id: string, over: Partial<PvSpec> = {}): PvSpec => ({
  asset_id,
  site_id: 's',
  asset_type: 'pv',
  capacity_mw: 5,
  min_mw: 0,
  max_mw: 5,
  utc_offset_h: 0,
  weight: 5,
  ...over,
});

export const wind = (asset_id: string, over: Partial<WindSpec> = {}): WindSpec => ({
  asset_id,
  site_id: 's',
  asset_type: 'wind',
  capacity_mw: 3,
  min_mw: 0,
  max_mw: 3,
  cut_in_ms: 3,
  rated_ms: 12,
  cut_out_ms: 25,
  mean_wind_ms: 8,
  weight: 3,
  ...over,
});

export const ev = (asset_id: string, over: Partial<EvSpec> = {}): EvSpec => ({
  asset_id,
  site_id: 's',
  asset_type: 'ev',
  capacity_mw: 1.2,
  min_mw: -1.2,
  max_mw: 0,
  ports: 8,
  port_max_kw: 150,
  weight: 1.2,
  ...over,
});

/** 2024-06-01 00:00 UTC. */
export const MIDNIGHT = Date.UTC(2024, 5, 1);
export const at = (hour: number) => MIDNIGHT + hour * 3_600_000;
