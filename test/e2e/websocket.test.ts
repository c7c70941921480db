// MQTT over WebSocket on /mqtt: the dashboard's live feed. Operators read with the dev token; they never publish.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixtureText } from '../fixture.js';
import { eventually, startTestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.dispose());

const connectOperator = (password: string, clientId = `operator-${Math.random().toString(16).slice(2)}`) =>
  mqtt.connectAsync(stack.config.wsUrl, {
    username: 'operator',
    password,
    clientId,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });

describe('MQTT over WebSocket', () => {
  it('streams metering, DER telemetry and shadow documents to an operator holding the token', async () => {
    const operator = await connectOperator(stack.config.token);
    const received: string[] = [];
    operator.on('message', (topic) => received.push(topic));
    try {
      await operator.subscribeAsync([topics.metering, 'ven/telemetry/+', '$aws/things/+/shadow/update/documents']);
      const ven = await connectDevice(await stack.provision('ven-001'), 'ven-001');
      await ven.publish(topics.metering, fixtureText('volttron-metering'));
      await ven.publish(topics.telemetry('ven-001'), fixtureText('volttron-metering'));
      await ven.publish(topics.shadow('ven-001', 'update'), fixtureText('volttron-shadow-reported'));
      await eventually(
        async () =>
          received.includes(topics.metering) &&
          received.includes(topics.telemetry('ven-001')) &&
          received.includes(topics.shadow('ven-001', 'update/documents')),
      );
      await ven.close();
    } finally {
      await operator.endAsync();
    }
  });

  it("refuses an operator taking a device's client id, and the device stays connected", async () => {
    const ven = await connectDevice(await stack.provision('ven-002'), 'ven-002');
    try {
      await expect(connectOperator(stack.config.token, 'ven-002')).rejects.toThrow(/Not authorized/i);
      await ven.publish(topics.metering, fixtureText('volttron-metering').replace('ven-001', 'ven-002'));
      expect(ven.interrupted()).toBe(false);
    } finally {
      await ven.close();
    }
  });

  it('refuses a wrong token, commands topics and any publish', async () => {
    await expect(connectOperator('not-the-token')).rejects.toThrow(/Not authorized/);
    const operator = await connectOperator(stack.config.token);
    try {
      await expect(operator.subscribeAsync(topics.command('ven-001'))).rejects.toThrow(/Subscribe error/);
      const closed = new Promise<void>((resolve) => operator.once('close', () => resolve()));
      operator.publish(topics.command('ven-001'), '{"op":"ping","correlationId":"x"}', { qos: 0 });
      await closed;
    } finally {
      await operator.endAsync(true);
    }
  });
});
