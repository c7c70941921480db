// The build-time constant that makes a Lambda bundle carry one time-series adapter (timeseries-store.ts): set by
// lib/handler-function.ts through esbuild's `define`, absent when the code runs from source. No imports, so that
// the CDK app can name it without loading an AWS client.
import type { Env } from '../common/config.js';

export type TimeseriesBackend = Env['TIMESERIES_BACKEND'];

declare global {
  /** The backend this bundle was built for; undefined when run from source (local stack, tests). */
  var VPP_BUNDLED_TIMESERIES: TimeseriesBackend | undefined;
}

/** The esbuild `define` that builds a bundle for one backend. */
export const bundledTimeseriesDefine = (backend: TimeseriesBackend): Record<string, string> => ({
  'globalThis.VPP_BUNDLED_TIMESERIES': JSON.stringify(backend),
});
