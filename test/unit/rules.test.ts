import { describe, expect, it } from 'vitest';
import { rules } from '../../lambdas/core/rules.js';
import { evaluate, parseRuleSql } from '../../bin/local/rules-engine.js';
import { isAllowed } from '../../lambdas/core/policy.js';

const rule = (name: string) => parseRuleSql(rules.find((r) => r.name === name)!.sql);

describe('the local rules engine runs the deployed rule SQL', () => {
  it('parses every rule definition', () => {
    expect(rules.map((r) => parseRuleSql(r.sql).filter)).toEqual([
      'volttron/metering',
      'ven/ack/+',
      'winter-river/#',
      '$aws/events/presence/+/+',
    ]);
  });

  it('metering: the payload plus topic, client id and receive time', () => {
    const event = evaluate(rule('metering'), 'volttron/metering', { venId: 'ven-001', usedPowerKw: 1 }, 'ven-001', 42);
    expect(event).toEqual({ venId: 'ven-001', usedPowerKw: 1, iot_topic: 'volttron/metering', iot_client_id: 'ven-001', iot_received_at: 42 });
  });

  it('metering: a payload key named like the metadata is overwritten by the broker facts', () => {
    const event = evaluate(rule('metering'), 'volttron/metering', { iot_client_id: 'ven-999' }, 'ven-001', 1);
    expect(event?.iot_client_id).toBe('ven-001');
  });

  it('ack: matches ven/ack/+ only', () => {
    expect(evaluate(rule('ack'), 'ven/ack/ven-001', {}, 'ven-001', 1)).toBeDefined();
    expect(evaluate(rule('ack'), 'ven/ack/ven-001/extra', {}, 'ven-001', 1)).toBeUndefined();
    expect(evaluate(rule('ack'), 'ven/cmd/ven-001', {}, 'ven-001', 1)).toBeUndefined();
  });

  it("winter-river: WHERE topic(3) = 'status' drops the backend's own commands", () => {
    expect(evaluate(rule('winter_river'), 'winter-river/pdu_a/status', {}, 'pdu_a', 1)).toBeDefined();
    expect(evaluate(rule('winter_river'), 'winter-river/pdu_a/command', {}, '', 1)).toBeUndefined();
  });

  it('presence: both lifecycle events', () => {
    expect(evaluate(rule('presence'), '$aws/events/presence/connected/ven-001', {}, '', 1)).toBeDefined();
    expect(evaluate(rule('presence'), '$aws/events/presence/disconnected/ven-001', {}, '', 1)).toBeDefined();
  });

  it('refuses SQL it cannot evaluate, so a rule change it cannot run fails here', () => {
    expect(() => parseRuleSql("SELECT state.reported.x FROM 'a/b'")).toThrow(/unsupported projection/);
    expect(() => parseRuleSql("SELECT * FROM 'a/b' WHERE x > 1")).toThrow(/unsupported rule SQL/);
  });
});

describe('the device policy', () => {
  it('lets a device publish only its own topics and the shared metering topic', () => {
    expect(isAllowed('publish', 'ven-001', 'volttron/metering')).toBe(true);
    expect(isAllowed('publish', 'ven-001', 'ven/ack/ven-001')).toBe(true);
    expect(isAllowed('publish', 'ven-001', 'ven/ack/ven-002')).toBe(false);
    expect(isAllowed('publish', 'ven-001', 'ven/cmd/ven-001')).toBe(false);
    expect(isAllowed('publish', 'ven-001', '$aws/things/ven-002/shadow/update')).toBe(false);
  });

  it('takes subscription filters literally, so wildcards cannot widen a device reach', () => {
    expect(isAllowed('subscribe', 'ven-001', 'ven/cmd/ven-001')).toBe(true);
    expect(isAllowed('subscribe', 'ven-001', 'ven/cmd/+')).toBe(false);
    expect(isAllowed('subscribe', 'ven-001', 'ven/cmd/#')).toBe(false);
    expect(isAllowed('subscribe', 'ven-001', '$aws/things/ven-001/shadow/update/delta')).toBe(true);
    expect(isAllowed('subscribe', 'ven-001', '$aws/things/+/shadow/update/delta')).toBe(false);
  });
});
