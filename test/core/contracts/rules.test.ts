import { describe, expect, it } from 'vitest';
import { rules } from '../../../lambdas/core/contracts/rules.js';
import { evaluate, parseRuleSql, RulesEngine, substitute } from '../../../bin/local/iot/rules-engine.js';
import { isAllowed } from '../../../lambdas/core/contracts/policy.js';
import type { Rejection } from '../../../lambdas/core/ingest/ingest-ports.js';
import { basicIngestTopic, parseBasicIngestTopic, topics } from '../../../lambdas/core/contracts/topics.js';

const rule = (name: string) => parseRuleSql(rules.find((r) => r.name === name)!.sql);

describe('the local rules engine runs the deployed rule SQL', () => {
  it('parses every rule definition', () => {
    expect(rules.map((r) => parseRuleSql(r.sql).filter)).toEqual([
      'volttron/metering',
      'ven/ack/+',
      'winter-river/#',
      'der/telemetry/+',
      'edge/+/+',
      '$aws/events/presence/+/+',
    ]);
  });

  it('metering: the payload plus topic, client id and receive time', () => {
    const event = evaluate(rule('metering'), 'volttron/metering', { venId: 'ven-001', usedPowerKw: 1 }, 'ven-001', 42);
    expect(event).toEqual({
      venId: 'ven-001',
      usedPowerKw: 1,
      iot_topic: 'volttron/metering',
      iot_client_id: 'ven-001',
      iot_received_at: 42,
    });
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

  it("edge: telemetry, status and ack of any node (OR of topic(3) terms), never the backend's own control topic", () => {
    for (const kind of ['telemetry', 'status', 'ack'])
      expect(evaluate(rule('edge'), `edge/dc-1/${kind}`, {}, 'dc-1', 1)).toBeDefined();
    expect(evaluate(rule('edge'), 'edge/dc-1/control', {}, '', 1)).toBeUndefined();
    expect(evaluate(rule('edge'), 'edge/dc-1/telemetry/x', {}, 'dc-1', 1)).toBeUndefined();
    expect(() => parseRuleSql("SELECT * FROM 'a/+' WHERE topic(2) = 'x' OR y = 1")).toThrow(/unsupported rule SQL/);
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

describe("the rules' Kinesis action in the local engine", () => {
  it("evaluates each rule's partition key template as IoT does: the sender, or the presence event's clientId", () => {
    const keyOf = (name: string, clientId: string, payload: Record<string, unknown>) =>
      substitute(rules.find((r) => r.name === name)!.partitionKey, clientId, payload);
    expect(keyOf('metering', 'ven-001', { venId: 'ven-001' })).toBe('ven-001');
    expect(keyOf('ack', 'ven-002', {})).toBe('ven-002');
    expect(keyOf('presence', '', { clientId: 'ven-003', eventType: 'connected' })).toBe('ven-003');
    expect(() => substitute('${topic(2)}', 'x', {})).toThrow(/unsupported substitution template/);
  });

  it('settles a publish only once its action has: a failed put goes to the error sink (errorAction) and fails the publish', async () => {
    const rejected: Rejection[] = [];
    let release: () => void = () => undefined;
    const put = new Promise<void>((r) => (release = r));
    const puts: [string, string][] = [];
    const e = new RulesEngine(
      [
        {
          name: 'metering',
          sql: rules[0]!.sql,
          partitionKey: rules[0]!.partitionKey,
          invoke: async (event, key) => {
            puts.push([key, String(event.iot_topic)]);
            if (event.fail) throw new Error('stream unavailable');
            await put;
          },
        },
      ],
      { reject: async (r) => void rejected.push(r) },
    );
    let settled = false;
    const first = e
      .onPublish(topics.metering, Buffer.from('{"venId":"ven-001"}'), 'ven-001')
      .then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    await first;
    expect(puts).toEqual([['ven-001', topics.metering]]);
    await expect(
      e.onPublish(topics.metering, Buffer.from('{"venId":"ven-001","fail":true}'), 'ven-001'),
    ).rejects.toThrow(/stream unavailable/);
    expect(rejected).toMatchObject([{ reason: 'handler-failed', topic: topics.metering, clientId: 'ven-001' }]);
  });
});

describe('Basic Ingest in the local rules engine, as in AWS IoT Core', () => {
  /** The deployed rules, each recording the events it is invoked with. */
  function engine() {
    const invoked: { rule: string; event: Record<string, unknown> }[] = [];
    const rejected: Rejection[] = [];
    const e = new RulesEngine(
      rules.map((r) => ({
        name: r.name,
        sql: r.sql,
        invoke: async (event) => void invoked.push({ rule: r.name, event }),
      })),
      { reject: async (r) => void rejected.push(r) },
    );
    const publish = async (topic: string, payload: object, clientId = 'ven-001') => {
      e.onPublish(topic, Buffer.from(JSON.stringify(payload)), clientId);
      await e.drain();
    };
    return { invoked, rejected, publish };
  }

  it('parses $aws/rules/{rule}/{topic} into the rule name and the topic the rule sees', () => {
    expect(topics.meteringBasicIngest).toBe('$aws/rules/metering/volttron/metering');
    expect(parseBasicIngestTopic(topics.meteringBasicIngest)).toEqual({
      ruleName: 'metering',
      topic: 'volttron/metering',
    });
    expect(parseBasicIngestTopic('$aws/rules/metering')).toEqual({ ruleName: 'metering', topic: '' });
    expect(parseBasicIngestTopic('volttron/metering')).toBeUndefined();
    expect(parseBasicIngestTopic('$aws/things/ven-001/shadow/update')).toBeUndefined();
    expect(basicIngestTopic('ack', 'ven/ack/ven-001')).toBe('$aws/rules/ack/ven/ack/ven-001');
  });

  it('invokes only the named rule, with topic() stripped of the $aws/rules/{rule}/ prefix', async () => {
    const { invoked, publish } = engine();
    await publish(topics.meteringBasicIngest, { venId: 'ven-001', usedPowerKw: 1 });
    expect(invoked).toHaveLength(1);
    expect(invoked[0]!.rule).toBe('metering');
    expect(invoked[0]!.event).toMatchObject({
      venId: 'ven-001',
      iot_topic: 'volttron/metering',
      iot_client_id: 'ven-001',
    });
  });

  it("does not apply the rule's FROM filter (a Basic Ingest rule may omit it), but does apply WHERE on the stripped topic", async () => {
    const { invoked, publish } = engine();
    await publish('$aws/rules/metering/any/topic/at/all', { venId: 'ven-001' });
    await publish(basicIngestTopic('winter_river', 'winter-river/pdu_a/status'), { node_id: 'pdu_a' }, 'pdu_a');
    await publish(basicIngestTopic('winter_river', 'winter-river/pdu_a/command'), { node_id: 'pdu_a' }, 'pdu_a');
    expect(invoked.map((i) => [i.rule, i.event['iot_topic']])).toEqual([
      ['metering', 'any/topic/at/all'],
      ['winter_river', 'winter-river/pdu_a/status'],
    ]);
  });

  it('drops a message for a rule that does not exist, and never runs a rule whose FROM merely matches the full topic', async () => {
    const { invoked, rejected, publish } = engine();
    await publish('$aws/rules/no_such_rule/volttron/metering', { venId: 'ven-001' });
    await publish('$aws/rules/ack/ven/ack/ven-001', { op: 'ping' });
    expect(invoked.map((i) => i.rule)).toEqual(['ack']);
    expect(rejected).toEqual([]);
  });

  it('sends malformed Basic Ingest payloads to the error sink under the topic as published', async () => {
    const invoked: string[] = [];
    const rejected: Rejection[] = [];
    const e = new RulesEngine(
      [{ name: 'metering', sql: rules[0]!.sql, invoke: async () => void invoked.push('metering') }],
      {
        reject: async (r) => void rejected.push(r),
      },
    );
    e.onPublish(topics.meteringBasicIngest, Buffer.from('not json'), 'ven-001');
    await e.drain();
    expect(invoked).toEqual([]);
    expect(rejected).toMatchObject([
      { reason: 'malformed-json', topic: topics.meteringBasicIngest, clientId: 'ven-001' },
    ]);
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

  it('lets a device publish metering through Basic Ingest to the metering rule only, and never subscribe there', () => {
    expect(isAllowed('publish', 'ven-001', '$aws/rules/metering/volttron/metering')).toBe(true);
    expect(isAllowed('publish', 'ven-001', '$aws/rules/ack/ven/ack/ven-001')).toBe(false);
    expect(isAllowed('publish', 'ven-001', '$aws/rules/metering/ven/ack/ven-001')).toBe(false);
    expect(isAllowed('publish', 'ven-001', '$aws/rules/metering/volttron/metering/x')).toBe(false);
    expect(isAllowed('subscribe', 'ven-001', '$aws/rules/metering/volttron/metering')).toBe(false);
    expect(isAllowed('subscribe', 'ven-001', '$aws/rules/#')).toBe(false);
  });

  it('takes subscription filters literally, so wildcards cannot widen a device reach', () => {
    expect(isAllowed('subscribe', 'ven-001', 'ven/cmd/ven-001')).toBe(true);
    expect(isAllowed('subscribe', 'ven-001', 'ven/cmd/+')).toBe(false);
    expect(isAllowed('subscribe', 'ven-001', 'ven/cmd/#')).toBe(false);
    expect(isAllowed('subscribe', 'ven-001', '$aws/things/ven-001/shadow/update/delta')).toBe(true);
    expect(isAllowed('subscribe', 'ven-001', '$aws/things/+/shadow/update/delta')).toBe(false);
  });
});
