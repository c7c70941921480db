import { describe, expect, it } from 'vitest';
import {
  ackSchema,
  commandSchema,
  dispatchCommandSchema,
  loadsSnapshotSchema,
  meteringSchema,
  parse,
  presenceEventSchema,
  shadowReportedSchema,
  telemetrySchema,
  winterRiverCommandSchema,
  winterRiverStatusSchema,
} from '../../../lambdas/core/contracts/schemas.js';
import { fleetEventBodySchema } from '../../../lambdas/api/bodies.js';
import { fixture } from '../../fixture.js';

const seeds = [
  ['metering', meteringSchema, 'volttron-metering'],
  ['telemetry', telemetrySchema, 'volttron-metering'],
  ['event ack', ackSchema, 'volttron-event-ack'],
  ['restore ack', ackSchema, 'volttron-restore-ack'],
  ['shadow reported', shadowReportedSchema, 'volttron-shadow-reported'],
  ['loads snapshot', loadsSnapshotSchema, 'volttron-loads-snapshot'],
  ['event command', commandSchema, 'volttron-event-command'],
  ['restore command', commandSchema, 'volttron-restore-command'],
  ['ping command', commandSchema, 'volttron-ping-command'],
  ['winter river status', winterRiverStatusSchema, 'winter-river-status'],
  ['winter river command', winterRiverCommandSchema, 'winter-river-command'],
] as const;

describe('example examples parse', () => {
  it.each(seeds)('%s', (_name, schema, file) => {
    const result = parse(schema, fixture(file));
    expect(result).toMatchObject({ ok: true });
  });

  it('keeps the example values as sent', () => {
    const result = parse(meteringSchema, fixture('volttron-metering'));
    if (!result.ok) throw new Error(result.message);
    expect(result.value).toMatchObject({ venId: 'ven-001', usedPowerKw: 8.2, eventId: 'evt-123' });
    expect(result.value.circuits.map((c) => c.id)).toEqual(['circuit_1', 'circuit_3']);
  });
});

describe('bad input is refused and the field is named', () => {
  const metering = fixture('volttron-metering');
  const cases: [string, unknown, string][] = [
    ['missing venId', { ...metering, venId: undefined }, 'venId'],
    ['venId with a slash', { ...metering, venId: 'ven/001' }, 'venId'],
    ['string power', { ...metering, usedPowerKw: '8.2' }, 'usedPowerKw'],
    ['negative power', { ...metering, usedPowerKw: -1 }, 'usedPowerKw'],
    ['SOC over 100', { ...metering, batterySOC: 140 }, 'batterySOC'],
    ['timestamp in milliseconds', { ...metering, timestamp: 1729700000000 }, 'timestamp'],
    ['circuit without currentKw', { ...metering, circuits: [{ id: 'c1', enabled: true }] }, 'circuits.0.currentKw'],
    [
      'load priority not an integer',
      { ...metering, loads: [{ loadId: 'l', currentPowerKw: 1, enabled: true, priority: 1.5 }] },
      'loads.0.priority',
    ],
  ];
  it.each(cases)('metering: %s', (_name, input, field) => {
    const result = parse(meteringSchema, input);
    expect(result).toMatchObject({ ok: false, field });
  });

  it('event ack without correlationId', () => {
    const { correlationId: _, ...ack } = fixture('volttron-event-ack');
    expect(parse(ackSchema, ack)).toMatchObject({ ok: false, field: 'correlationId' });
  });

  it('ack with an unknown op', () => {
    expect(parse(ackSchema, { ...fixture('volttron-restore-ack'), op: 'reboot' })).toMatchObject({
      ok: false,
      field: 'op',
    });
  });

  it('event command with zero shed', () => {
    expect(parse(commandSchema, { ...fixture('volttron-event-command'), shed_kw: 0 })).toMatchObject({ ok: false });
  });

  it('dispatch command needs asset_id or site_id, and a bounded mw', () => {
    expect(parse(dispatchCommandSchema, { op: 'dispatch', mw: 2, correlationId: 'c' })).toMatchObject({
      ok: false,
      field: 'asset_id',
    });
    expect(parse(dispatchCommandSchema, { op: 'dispatch', site_id: 's', mw: 1e9, correlationId: 'c' })).toMatchObject({
      ok: false,
      field: 'mw',
    });
    expect(parse(dispatchCommandSchema, { op: 'dispatch', site_id: 's', mw: -2.5, correlationId: 'c' })).toMatchObject({
      ok: true,
    });
  });

  it('winter river status without node_id, or with a string reading', () => {
    const status = fixture('winter-river-status');
    expect(parse(winterRiverStatusSchema, { ...status, node_id: undefined })).toMatchObject({
      ok: false,
      field: 'node_id',
    });
    expect(parse(winterRiverStatusSchema, { ...status, power_kw: 'six' })).toMatchObject({
      ok: false,
      field: 'power_kw',
    });
  });

  it('numbers DynamoDB cannot hold, named: in a status (its free numeric keys too) and in an ACK', () => {
    const status = fixture('winter-river-status');
    expect(parse(winterRiverStatusSchema, { ...status, power_kw: 1e-200 })).toMatchObject({
      ok: false,
      field: 'power_kw',
    });
    expect(parse(winterRiverStatusSchema, { ...status, temperature_c: 1e300 })).toMatchObject({
      ok: false,
      field: 'temperature_c',
    });
    expect(parse(winterRiverStatusSchema, { ...status, temperature_c: 21.5 })).toMatchObject({ ok: true });
    expect(parse(ackSchema, { ...fixture('volttron-event-ack'), actual_shed_kw: 1e-140 })).toMatchObject({
      ok: false,
      field: 'actual_shed_kw',
    });
  });

  it('a __proto__ or constructor key, which no copy or store of the message keeps, at the top or nested', () => {
    const status = fixture('winter-river-status');
    const top = JSON.parse(JSON.stringify(status).replace('{', '{"__proto__":0,'));
    expect(parse(winterRiverStatusSchema, top)).toMatchObject({ ok: false, field: '__proto__' });
    const nested = { ...status, extra: JSON.parse('{"a":{"__proto__":{"polluted":true}}}') };
    expect(parse(winterRiverStatusSchema, nested)).toMatchObject({ ok: false, field: 'extra.a.__proto__' });
    // an own `constructor` the DynamoDB marshaller cannot write (it takes the object for a class instance)
    expect(parse(winterRiverStatusSchema, { ...status, constructor: 1 })).toMatchObject({
      ok: false,
      field: 'constructor',
    });
  });

  it('an unknown key that is not a plain name is quoted in the field it names (a property run found " ")', () => {
    const event = { shed_kw: 5, duration_sec: 600 };
    expect(parse(fleetEventBodySchema, { ...event, ' ': 0 })).toMatchObject({ ok: false, field: '" "' });
    expect(parse(fleetEventBodySchema, { ...event, 'a.b': 0 })).toMatchObject({ ok: false, field: '"a.b"' });
    expect(parse(fleetEventBodySchema, { ...event, extra_1: 0 })).toMatchObject({ ok: false, field: 'extra_1' });
  });

  it('winter river command with a free-text name', () => {
    expect(parse(winterRiverCommandSchema, { command: 'rm -rf /' })).toMatchObject({ ok: false, field: 'command' });
  });

  it('shadow reported document without circuits', () => {
    const doc = fixture('volttron-shadow-reported') as { state: { reported: Record<string, unknown> } };
    delete doc.state.reported.circuits;
    expect(parse(shadowReportedSchema, doc)).toMatchObject({ ok: false, field: 'state.reported.circuits' });
  });

  it('presence event of an unknown type', () => {
    expect(parse(presenceEventSchema, { clientId: 'ven-001', timestamp: 1, eventType: 'subscribed' })).toMatchObject({
      ok: false,
      field: 'eventType',
    });
  });
});
