// The time-series store a process builds from its environment, and the only module that names both adapters.
// A Lambda bundle carries one of them: lib/handler-function.ts sets `VPP_BUNDLED_TIMESERIES` (timeseries-bundle.ts)
// from the function's own TIMESERIES_BACKEND, esbuild folds the other branch away and, with it, that adapter and
// its AWS clients. Run from source (local stack, tests) nothing is set and both are there.
import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Env } from '../common/config.js';
import type { TelemetryStore } from './telemetry-store.js';
import './timeseries-bundle.js';
import { DynamoTelemetryStore } from './timeseries-dynamodb.js';
import { TimestreamTelemetryStore } from './timeseries-timestream.js';

/** Reads and writes: the operator API (and its HTTP telemetry fallback), the local stack. */
export function telemetryStore(env: Env, doc: DynamoDBDocumentClient): TelemetryStore {
  // the test of the bundled backend is repeated here so that a dynamodb bundle folds the query client away too
  return store(
    env,
    doc,
    globalThis.VPP_BUNDLED_TIMESERIES !== 'dynamodb' ? () => new TimestreamQueryClient({}) : undefined,
  );
}

/** Writes only: the rule Lambdas, which never query (no Timestream query client in their bundles). */
export function telemetryWriter(env: Env, doc: DynamoDBDocumentClient): TelemetryStore {
  return store(env, doc);
}

function store(env: Env, doc: DynamoDBDocumentClient, queryClient?: () => TimestreamQueryClient): TelemetryStore {
  if (env.TIMESERIES_BACKEND === 'dynamodb' && globalThis.VPP_BUNDLED_TIMESERIES !== 'timestream') {
    return new DynamoTelemetryStore({
      client: doc,
      tableName: env.TIMESERIES_TABLE!,
      retentionDays: env.RETENTION_DAYS,
    });
  }
  if (env.TIMESERIES_BACKEND === 'timestream' && globalThis.VPP_BUNDLED_TIMESERIES !== 'dynamodb') {
    return new TimestreamTelemetryStore({
      writeClient: new TimestreamWriteClient({}),
      ...(queryClient && { queryClient: queryClient() }),
      databaseName: env.TIMESTREAM_DATABASE!,
    });
  }
  throw new Error(
    `Invalid Lambda environment: TIMESERIES_BACKEND=${env.TIMESERIES_BACKEND}, but this bundle was built for ${globalThis.VPP_BUNDLED_TIMESERIES}`,
  );
}
