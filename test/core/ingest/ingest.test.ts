import { describe, expect, it } from 'vitest';
import {
  ingestMetering,
  ingestMeteringMessage,
  ingestPresence,
  meteringRecords,
  type RuleMessage,
} from '../../../lambdas/core/ingest/ingest.js';
import type { IngestPorts } from '../../../lambdas/core/ingest/ingest-ports.js';
import type { SeriesRecord } from '../../../lambdas/core/timeseries/telemetry-store.js';
import { MAX_METERING_BATCH, meteringSchema } from '../../../lambdas/core/contracts/schemas.js';
import { fixture } from '../../fixture.js';

/** Ports that answer at once and remember every call. */
function recordingPorts() {
  const writes: SeriesRecord[][] = [];
  const heartbeats: unknown[][] = [];
  const ports = {
    telemetry: { write: async (records: readonly SeriesRecord[]) => void writes.push([...records]) },
    registry: { recordHeartbeat: async (...args: unknown[]) => void heartbeats.push(args) },
  } as unknown as IngestPorts;
  return { ports, writes, heartbeats };
}

const message = (payload: Record<string, unknown>, clientId = 'ven-001'): RuleMessage => ({
  payload,
  topic: 'volttron/metering',
  clientId,
  receivedAt: 1729700000500,
});

const seed = fixture('volttron-metering');
const sample = (i: number) => ({ ...seed, timestamp: 1729700000 + 5 * i, usedPowerKw: 8 + i });

describe('metering records', () => {
  it('maps the example metering to one ven_telemetry record and one ven_load_sample per circuit, in payload key order, eventId last', () => {
    const records = meteringRecords(meteringSchema.parse(seed));
    // Key order is part of the contract: the Timestream adapter sends the measures in this order.
    expect(JSON.stringify(records)).toBe(
      JSON.stringify([
        {
          series: 'ven_telemetry',
          deviceId: 'ven-001',
          time: 1729700000000,
          dimensions: { ven_id: 'ven-001' },
          measures: {
            usedPowerKw: 8.2,
            shedPowerKw: 4.8,
            requestedReductionKw: 5,
            baselinePowerKw: 13,
            batterySOC: 85.5,
            panelAmperageRating: 200,
            panelVoltage: 240,
            panelMaxKw: 48,
            currentAmps: 34.2,
            panelUtilizationPercent: 17.1,
            eventId: 'evt-123',
          },
        },
        {
          series: 'ven_load_sample',
          deviceId: 'ven-001',
          time: 1729700000000,
          dimensions: { ven_id: 'ven-001', load_id: 'circuit_1' },
          measures: {
            name: 'Main HVAC',
            breakerAmps: 30,
            currentKw: 2.1,
            currentAmps: 8.75,
            enabled: true,
            critical: false,
            type: 'hvac',
            capacityKw: 5,
            currentPowerKw: 2.1,
            shedCapabilityKw: 5,
            priority: 2,
          },
        },
        {
          series: 'ven_load_sample',
          deviceId: 'ven-001',
          time: 1729700000000,
          dimensions: { ven_id: 'ven-001', load_id: 'circuit_3' },
          measures: {
            name: 'Pool Pump',
            breakerAmps: 20,
            currentKw: 0,
            currentAmps: 0,
            enabled: false,
            critical: false,
          },
        },
      ]),
    );
  });

  it('lets a load override its circuit, keeps loads without a circuit, replaces a repeated circuit id and leaves out a null eventId', () => {
    const records = meteringRecords(
      meteringSchema.parse({
        venId: 'ven-001',
        timestamp: 1729700000,
        usedPowerKw: 1,
        eventId: null,
        circuits: [
          { id: 'c1', name: 'first', currentKw: 1, enabled: true, critical: true },
          { id: 'c1', currentKw: 2, enabled: false },
        ],
        loads: [
          { loadId: 'c1', currentPowerKw: 2, enabled: true },
          { loadId: 'l9', currentPowerKw: 3, enabled: true },
        ],
      }),
    );
    expect(records[0]!.measures).toEqual({ usedPowerKw: 1 });
    expect(records.slice(1).map((r) => [r.dimensions.load_id, r.measures])).toEqual([
      ['c1', { currentKw: 2, enabled: true, currentPowerKw: 2 }],
      ['l9', { currentPowerKw: 3, enabled: true }],
    ]);
    expect(Object.keys(records[1]!.measures)).toEqual(['currentKw', 'enabled', 'currentPowerKw']);
  });
});

describe('batched metering (METERING_BATCH)', () => {
  it('stores a batch exactly as its samples one by one, in one time-series write, with one heartbeat from the newest sample', async () => {
    const samples = [sample(2), sample(0), sample(1)];
    const batched = recordingPorts();
    expect(await ingestMeteringMessage(message({ venId: 'ven-001', batch: samples }), batched.ports)).toEqual({
      ok: true,
      stored: true,
    });
    const single = recordingPorts();
    for (const s of samples) await ingestMetering(message(s), single.ports);

    expect(batched.writes).toHaveLength(1);
    expect(batched.writes[0]).toEqual(single.writes.flat());
    expect(batched.heartbeats).toEqual([single.heartbeats[0]]);
    expect(batched.heartbeats[0]!.slice(0, 3)).toEqual(['ven', 'ven-001', (1729700000 + 10) * 1000]);
  });

  it('takes a single payload on the same topic as before', async () => {
    const { ports, writes } = recordingPorts();
    expect(await ingestMeteringMessage(message(seed), ports)).toEqual({ ok: true, stored: true });
    expect(writes).toEqual([meteringRecords(meteringSchema.parse(seed), 'mqtt')]);
    expect(writes[0]![0]!.measures.source).toBe('mqtt');
  });

  it.each([
    [
      'a batch from another device',
      { venId: 'ven-002', batch: [{ ...sample(0), venId: 'ven-002' }] },
      'identity-mismatch',
      /ven-002 was published by ven-001/,
    ],
    [
      'a sample naming another VEN',
      { venId: 'ven-001', batch: [sample(0), { ...sample(1), venId: 'ven-002' }] },
      'schema',
      /^batch\.1\.venId: /,
    ],
    [
      'an invalid sample, naming its field',
      { venId: 'ven-001', batch: [{ ...sample(0), usedPowerKw: -1 }] },
      'schema',
      /^batch\.0\.usedPowerKw: /,
    ],
    ['an empty batch', { venId: 'ven-001', batch: [] }, 'schema', /^batch: /],
    [
      'too many samples',
      { venId: 'ven-001', batch: Array.from({ length: MAX_METERING_BATCH + 1 }, (_, i) => sample(i)) },
      'schema',
      /^batch: /,
    ],
    ['a batch that is not a list', { venId: 'ven-001', batch: 'x' }, 'schema', /^batch: /],
  ])('refuses %s and stores nothing', async (_name, payload, reason, detail) => {
    const { ports, writes, heartbeats } = recordingPorts();
    const result = await ingestMeteringMessage(message(payload), ports);
    expect(result).toMatchObject({ ok: false, reason, message: expect.stringMatching(detail) });
    expect(writes).toEqual([]);
    expect(heartbeats).toEqual([]);
  });
});

describe('samples from the future and numbers no store keeps', () => {
  const RECEIVED = 1729700000500;
  const skewed = (aheadMs: number) => ({ ...seed, timestamp: Math.floor((RECEIVED + aheadMs) / 1000) });

  it.each([
    ['a sample a year ahead of its receive time', skewed(365 * 86_400_000), /^timestamp: .* ahead/],
    ['a sample 6 min ahead', skewed(6 * 60_000), /^timestamp: /],
    [
      'a batch with one sample ahead, naming it',
      { venId: 'ven-001', batch: [sample(0), skewed(400_000)] },
      /^batch\.1\.timestamp: /,
    ],
  ])('refuses %s as clock-skew and stores nothing', async (_name, payload, detail) => {
    const { ports, writes, heartbeats } = recordingPorts();
    expect(await ingestMeteringMessage(message(payload), ports)).toMatchObject({
      ok: false,
      reason: 'clock-skew',
      message: expect.stringMatching(detail),
    });
    expect(writes).toEqual([]);
    expect(heartbeats).toEqual([]);
  });

  it('takes a sample up to 5 min ahead (a device clock a little fast) and any older one (backfill)', async () => {
    const { ports, writes } = recordingPorts();
    expect(await ingestMeteringMessage(message(skewed(4 * 60_000)), ports)).toEqual({ ok: true, stored: true });
    expect(await ingestMeteringMessage(message(skewed(-30 * 86_400_000)), ports)).toEqual({ ok: true, stored: true });
    expect(writes).toHaveLength(2);
  });

  it('refuses a presence event from more than 5 min ahead, applies one from now', async () => {
    const presence: unknown[][] = [];
    const ports = {
      registry: { recordPresence: async (...args: unknown[]) => void presence.push(args) },
    } as unknown as IngestPorts;
    const event = (timestamp: number) =>
      message({ clientId: 'ven-001', timestamp, eventType: 'connected', versionNumber: 1 }, '');
    expect(await ingestPresence(event(RECEIVED + 86_400_000 * 365 * 100), ports)).toMatchObject({
      ok: false,
      reason: 'clock-skew',
      message: expect.stringMatching(/^timestamp: /),
    });
    // past what a Date holds (a property run found it: the message threw, and the batch with it)
    expect(await ingestPresence(event(Number.MAX_SAFE_INTEGER), ports)).toMatchObject({
      ok: false,
      reason: 'clock-skew',
      message: expect.stringMatching(/^timestamp: 9007199254740991 ms /),
    });
    expect(presence).toEqual([]);
    expect(await ingestPresence(event(RECEIVED), ports)).toEqual({ ok: true, stored: true });
    expect(presence).toHaveLength(1);
  });

  it.each(['operator-3f9a2c', 'claim-ven-101'])(
    'ignores the lifecycle events of %s: the live feed and claim connections are no devices',
    async (clientId) => {
      const presence: unknown[][] = [];
      const ports = {
        registry: { recordPresence: async (...args: unknown[]) => void presence.push(args) },
      } as unknown as IngestPorts;
      const event = message({ clientId, timestamp: RECEIVED, eventType: 'connected', versionNumber: 1 }, '');
      expect(await ingestPresence(event, ports)).toEqual({ ok: true, stored: false });
      expect(presence).toEqual([]);
    },
  );

  it.each([
    [
      'a reading DynamoDB cannot hold (1e-200)',
      { ...seed, usedPowerKw: 1e-200 },
      /^usedPowerKw: must be 0 or of magnitude/,
    ],
    [
      'a circuit reading too small to store',
      { ...seed, circuits: [{ ...(seed.circuits as object[])[0], currentKw: 5e-324 }] },
      /^circuits\.0\.currentKw: /,
    ],
    [
      'a batched sample with one',
      { venId: 'ven-001', batch: [sample(0), { ...sample(1), batterySOC: 1e-131 }] },
      /^batch\.1\.batterySOC: /,
    ],
  ])('refuses %s whole at the edge, so neither series is written', async (_name, payload, detail) => {
    const { ports, writes, heartbeats } = recordingPorts();
    expect(await ingestMeteringMessage(message(payload), ports)).toMatchObject({
      ok: false,
      reason: 'schema',
      message: expect.stringMatching(detail),
    });
    expect(writes).toEqual([]);
    expect(heartbeats).toEqual([]);
  });
});
