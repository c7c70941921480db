// The time-series store a process builds from its environment, and the bundle guard a Lambda built for one backend has.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { loadEnv } from '../../../lambdas/core/common/config.js';
import { DynamoTelemetryStore } from '../../../lambdas/core/timeseries/timeseries-dynamodb.js';
import { telemetryStore, telemetryWriter } from '../../../lambdas/core/timeseries/timeseries-store.js';
import { TimestreamTelemetryStore } from '../../../lambdas/core/timeseries/timeseries-timestream.js';

const tables = { DEVICES_TABLE: 'd', EVENTS_TABLE: 'e', COMMANDS_TABLE: 'c' };
const dynamo = loadEnv({ ...tables, TIMESERIES_BACKEND: 'dynamodb', TIMESERIES_TABLE: 't' });
const timestream = loadEnv({ ...tables, TIMESERIES_BACKEND: 'timestream', TIMESTREAM_DATABASE: 'db' });
const doc = documentClient(new DynamoDBClient({ region: 'us-east-1' }));
const query = { series: 'ven_telemetry', deviceId: 'ven-001', start: 0, end: 1, limit: 1 } as const;

afterEach(() => {
  globalThis.VPP_BUNDLED_TIMESERIES = undefined;
});

describe('time-series store from the environment', () => {
  it('run from source, builds the adapter TIMESERIES_BACKEND names', () => {
    expect(telemetryStore(dynamo, doc)).toBeInstanceOf(DynamoTelemetryStore);
    expect(telemetryStore(timestream, doc)).toBeInstanceOf(TimestreamTelemetryStore);
  });

  it("the rule Lambdas' writer has no Timestream query client", async () => {
    await expect(telemetryWriter(timestream, doc).query(query)).rejects.toThrow(/write only/);
  });

  it('a bundle built for one backend refuses the other, naming TIMESERIES_BACKEND', () => {
    globalThis.VPP_BUNDLED_TIMESERIES = 'dynamodb';
    expect(telemetryWriter(dynamo, doc)).toBeInstanceOf(DynamoTelemetryStore);
    expect(() => telemetryWriter(timestream, doc)).toThrow(
      /TIMESERIES_BACKEND=timestream, but this bundle was built for dynamodb/,
    );
    globalThis.VPP_BUNDLED_TIMESERIES = 'timestream';
    expect(() => telemetryStore(dynamo, doc)).toThrow(
      /TIMESERIES_BACKEND=dynamodb, but this bundle was built for timestream/,
    );
  });
});
