import { rngFor } from '../random.js';
import type { AssetSpec } from '../site.js';
import { BessModel } from './bess.js';
import { EvModel } from './ev.js';
import type { AssetModel } from './model.js';
import { PvModel } from './pv.js';
import { WindModel } from './wind.js';

/** The model for an inventory asset; its randomness is seeded from the asset id, so a run is reproducible. */
export function createAssetModel(spec: AssetSpec, nowMs: number): AssetModel {
  switch (spec.asset_type) {
    case 'bess':
      return new BessModel(spec);
    case 'pv':
      return new PvModel(spec, rngFor(spec.asset_id), nowMs);
    case 'wind':
      return new WindModel(spec, rngFor(spec.asset_id));
    case 'ev':
      return new EvModel(spec, rngFor(spec.asset_id), nowMs);
  }
}
