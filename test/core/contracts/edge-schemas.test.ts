// Data-centre edge nodes' wire formats: the telemetry as the edge software sends it, its status, the control commands
// and their ACKs; how a sample is stored and read back field for field; the agent's battery model.
import { describe, expect, it } from 'vitest';
import {
  edgeAckSchema,
  edgeCommandSchema,
  edgeStatusSchema,
  edgeTelemetrySchema,
  edgeTimeMs,
} from '../../../lambdas/core/contracts/edge-schemas.js';
import { parse } from '../../../lambdas/core/contracts/schemas.js';
import { acceptEdgeTelemetry, edgeReading, edgeRecord } from '../../../lambdas/core/ingest/edge.js';
import { EdgeNodeModel } from '../../../device/edge-node.js';
import { fixture, fixtureText } from '../../fixture.js';

const sample = () => fixture('edge-telemetry');
const refusal = (data: unknown) => {
  const r = parse(edgeTelemetrySchema, data);
  return r.ok ? undefined : r.field;
};

describe('edge telemetry, as the edge software sends it', () => {
  it('takes the payload as it comes off the wire, every field kept', () => {
    const parsed = parse(edgeTelemetrySchema, JSON.parse(fixtureText('edge-telemetry')));
    expect(parsed).toEqual({ ok: true, value: sample() });
  });

  it.each([
    ['power_kw', 'a lot'],
    ['soc', 100.5],
    ['soc', -1],
    ['freq', 0],
    ['cpu', '37'],
    ['ram', null],
    ['disk', 101],
    ['dc_id', 'dc/01'],
    ['timestamp', '2026-11-30 12:00:05'],
    ['timestamp', 1_764_504_005_000],
    ['battery', 80],
  ])('refuses %s = %j, naming it', (field, value) => {
    expect(refusal({ ...sample(), [field]: value })).toBe(field);
  });

  it('names the nested field: meta.capacity_kw, meta.battery_kwh, battery.percent', () => {
    expect(refusal({ ...sample(), meta: { battery_kwh: 200 } })).toBe('meta.capacity_kw');
    expect(refusal({ ...sample(), meta: { capacity_kw: 100, battery_kwh: -2 } })).toBe('meta.battery_kwh');
    expect(refusal({ ...sample(), battery: { percent: 140, plugged: true } })).toBe('battery.percent');
    expect(refusal({ ...sample(), meta: { capacity_kw: 100, battery_kwh: 2, system: { os: 'linux' } } })).toBe(
      'meta.system',
    );
  });

  it('requires the measured fields; timestamp and battery may be left out', () => {
    for (const field of ['dc_id', 'power_kw', 'soc', 'freq', 'cpu', 'ram', 'disk', 'meta']) {
      const { [field]: _gone, ...rest } = sample();
      expect(refusal(rest), field).toBe(field);
    }
    const { timestamp: _t, battery: _b, ...minimal } = sample();
    expect(refusal(minimal)).toBeUndefined();
  });

  it('keeps other scalar fields the software adds, but no nested ones and not the names stored samples keep', () => {
    expect(refusal({ ...sample(), charge_rate_kw: -20, load_factor: 0.7, location: 'fra' })).toBeUndefined();
    expect(refusal({ ...sample(), system: { cpu: { percent: 3 } } })).toBe('system');
    expect(refusal({ ...sample(), source: 'mqtt' })).toBe('source');
    expect(refusal({ ...sample(), sent_timestamp: 1 })).toBe('sent_timestamp');
  });

  it('reads the timestamp as ISO-8601 (microseconds cut to milliseconds) or epoch seconds', () => {
    expect(edgeTimeMs('2026-11-30T12:00:05.123456Z')).toBe(Date.UTC(2026, 10, 30, 12, 0, 5, 123));
    expect(edgeTimeMs('2026-11-30T13:00:05+01:00')).toBe(Date.UTC(2026, 10, 30, 12, 0, 5));
    expect(edgeTimeMs(1_764_504_005.5)).toBe(1_764_504_005_500);
  });
});

describe('an accepted sample, stored and read back', () => {
  const receivedAt = Date.UTC(2026, 10, 30, 12, 0, 6);
  const accept = (payload: Record<string, unknown>, clientId = 'dc-fra-01', topic = 'edge/dc-fra-01/telemetry') =>
    acceptEdgeTelemetry({ payload, topic, clientId, receivedAt });

  it('gives back exactly the payload sent, with its time and the path it came by', () => {
    for (const payload of [
      sample(),
      { ...sample(), battery: { percent: 88, plugged: false, secsleft: 5400 }, charge_rate_kw: 12.5, location: null },
      { ...sample(), timestamp: 1_764_504_005 },
    ]) {
      const accepted = accept(payload);
      if (!accepted.ok) throw new Error(accepted.message);
      const record = edgeRecord(accepted.value);
      expect(Object.values(record.measures).every((v) => ['number', 'string', 'boolean'].includes(typeof v))).toBe(
        true,
      );
      expect(record).toMatchObject({
        series: 'edge_telemetry',
        deviceId: 'dc-fra-01',
        dimensions: { dc_id: 'dc-fra-01' },
      });
      // through JSON, as a store keeps it
      const stored = JSON.parse(JSON.stringify(record));
      expect(edgeReading(stored)).toEqual({
        time: new Date(accepted.value.time).toISOString(),
        source: 'mqtt',
        payload,
      });
    }
  });

  it('stamps a sample without a timestamp with its receive time', () => {
    const { timestamp: _t, ...payload } = sample();
    const accepted = accept(payload);
    expect(accepted.ok && accepted.value.time).toBe(receivedAt);
  });

  it("refuses a sender that is not the node of the topic, or a dc_id that is not the topic's", () => {
    expect(accept(sample(), 'dc-other')).toMatchObject({ ok: false, reason: 'identity-mismatch' });
    expect(accept({ ...sample(), dc_id: 'dc-other' })).toMatchObject({
      ok: false,
      reason: 'identity-mismatch',
      message: expect.stringMatching(/^dc_id: dc-other/),
    });
  });

  it('refuses a sample from more than 5 minutes ahead of its receive time', () => {
    expect(accept({ ...sample(), timestamp: '2026-11-30T12:06:07Z' })).toMatchObject({
      ok: false,
      reason: 'clock-skew',
    });
    expect(accept({ ...sample(), timestamp: '2026-11-30T12:04:00Z' }).ok).toBe(true);
  });
});

describe('edge status, commands and ACKs', () => {
  it('status: online or offline', () => {
    expect(parse(edgeStatusSchema, { dc_id: 'dc-1', status: 'offline', timestamp: '2026-11-30T12:00:00Z' }).ok).toBe(
      true,
    );
    expect(parse(edgeStatusSchema, { status: 'asleep' })).toMatchObject({ ok: false, field: 'status' });
  });

  it('commands: {action, params} with the correlationId their ACK carries; stop takes no params', () => {
    expect(parse(edgeCommandSchema, { action: 'charge', params: { kw: 40 }, correlationId: 'c-1' }).ok).toBe(true);
    expect(parse(edgeCommandSchema, { action: 'set_power', params: { kw: -25 }, correlationId: 'c-2' }).ok).toBe(true);
    expect(parse(edgeCommandSchema, { action: 'stop', correlationId: 'c-3' })).toEqual({
      ok: true,
      value: { action: 'stop', params: {}, correlationId: 'c-3' },
    });
    expect(parse(edgeCommandSchema, { action: 'discharge', params: { kw: 0 }, correlationId: 'c-4' })).toMatchObject({
      ok: false,
      field: 'params.kw',
    });
    expect(parse(edgeCommandSchema, { action: 'charge', params: {}, correlationId: 'c-5' })).toMatchObject({
      ok: false,
      field: 'params.kw',
    });
    expect(parse(edgeCommandSchema, { action: 'defer_load', params: {}, correlationId: 'c-6' })).toMatchObject({
      ok: false,
      field: 'action',
    });
  });

  it('ACKs: accepted or rejected, epoch seconds', () => {
    expect(
      parse(edgeAckSchema, {
        correlationId: 'c-1',
        action: 'charge',
        status: 'accepted',
        ts: 1_764_504_005.2,
        charge_rate_kw: 40,
        soc: 71,
      }).ok,
    ).toBe(true);
    expect(
      parse(edgeAckSchema, { correlationId: 'c-1', action: 'charge', status: 'ok', ts: 1_764_504_005 }),
    ).toMatchObject({ ok: false, field: 'status' });
  });
});

describe("the edge agent's battery", () => {
  const t0 = Date.UTC(2026, 10, 30, 12);
  const model = () => new EdgeNodeModel('dc-1', () => 0.5, t0);

  it('charges at the commanded power, limited to half its energy per hour, and moves its state of charge by it', () => {
    const m = model();
    expect(m.apply({ action: 'charge', params: { kw: 50 } }, t0)).toEqual({ ok: true, chargeRateKw: 50 });
    const soc = m.soc;
    // an hour at 50 kW into a 200 kWh battery: +25 points
    expect(m.telemetry(t0 + 3_600_000).soc).toBeCloseTo(soc + (50 / m.batteryKwh) * 100, 1);
    expect(m.apply({ action: 'discharge', params: { kw: 10_000 } }, t0 + 3_600_000)).toEqual({
      ok: true,
      chargeRateKw: -m.maxBatteryKw,
    });
    expect(m.apply({ action: 'set_power', params: { kw: 12 } }, t0 + 3_600_000)).toEqual({
      ok: true,
      chargeRateKw: 12,
    });
    expect(m.apply({ action: 'stop', params: {} }, t0 + 3_600_000)).toEqual({ ok: true, chargeRateKw: 0 });
  });

  it('stops at full, refuses to charge a full battery, and publishes what the schema takes with real host figures', () => {
    const m = model();
    m.apply({ action: 'charge', params: { kw: 100 } }, t0);
    const t = m.telemetry(t0 + 10 * 3_600_000);
    expect(t.soc).toBe(100);
    expect(t.charge_rate_kw).toBe(0);
    expect(m.apply({ action: 'charge', params: { kw: 1 } }, t0 + 10 * 3_600_000)).toEqual({
      ok: false,
      reason: 'battery full',
    });
    expect(parse(edgeTelemetrySchema, JSON.parse(JSON.stringify(t))).ok).toBe(true);
    expect(t.ram).toBeGreaterThan(0);
    expect(t.disk).toBeGreaterThan(0);
  });
});
