// The broker refuses what AWS IoT refuses, over mutual TLS with the real device SDK: retained messages
// (no iot:RetainPublish), payloads over 128 KiB on any topic (a huge packet is dropped unread), and it says who failed
// a TLS handshake and why. The error sink keeps the payload's text, even numbers JSON has no value for.
import { mqtt } from 'aws-iot-device-sdk-v2';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCa } from '../../bin/local/iot/certs.js';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { MAX_PAYLOAD_BYTES } from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { errorSink, eventually, startTestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let ven: ProvisionResult;
const lines: string[] = [];

/** Runs a command with `input` on stdin; its stdout. */
const run = (cmd: string, args: string[], input: string) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile(cmd, args, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end(input);
  });

beforeAll(async () => {
  stack = await startTestStack({ log: (line) => lines.push(line) });
  ven = await stack.provision('ven-hard');
});
afterAll(() => stack?.dispose());

type Refusal = { reason: string; message: string; topic?: string; clientId?: string; payload?: string };
const refusals = async (clientId: string) =>
  ((await errorSink(stack.config.errorsFile)) as Refusal[]).filter((e) => e.clientId === clientId);

describe('the broker, as the AWS IoT policy and limits', () => {
  it('refuses a retained publish: drops the connection, records not-authorized naming retain, keeps nothing retained', async () => {
    const device = await connectDevice(ven, 'ven-hard');
    try {
      void device.connection
        .publish(topics.ack('ven-hard'), '{"retained": true}', mqtt.QoS.AtLeastOnce, true)
        .catch(() => undefined);
      await eventually(async () => device.interrupted());
      const refusal = await eventually(async () =>
        (await refusals('ven-hard')).find((r) => r.reason === 'not-authorized'),
      );
      expect(refusal?.message).toMatch(/retain/);
    } finally {
      await device.close();
    }
    const listener = await connectDevice(ven, 'ven-hard');
    try {
      await listener.subscribe(topics.ack('ven-hard'));
      await new Promise((r) => setTimeout(r, 300));
      expect(listener.received).toEqual([]);
    } finally {
      await listener.close();
    }
  });

  it.each([
    ['a 129 KiB shadow update (a topic no rule reads)', MAX_PAYLOAD_BYTES + 100, /^131172 bytes > 131072$/],
    ['a 4 MiB publish, dropped from its header before it is read', 4 * 1024 * 1024, /unread/],
  ])('refuses %s: disconnect and oversize', async (_name, size, message) => {
    const thing = `ven-big-${size}`;
    const device = await connectDevice(await stack.provision(thing), thing);
    try {
      void device.connection
        .publish(`$aws/things/${thing}/shadow/update`, 'x'.repeat(size), mqtt.QoS.AtLeastOnce)
        .catch(() => undefined);
      await eventually(async () => device.interrupted());
      const refusal = await eventually(async () => (await refusals(thing)).find((r) => r.reason === 'oversize'));
      expect(refusal?.message).toMatch(message);
    } finally {
      await device.close();
    }
  });

  it('logs a TLS handshake from a foreign CA as a warning with the peer address and the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vpp-foreign-'));
    try {
      const foreign = new LocalCa(dir);
      await foreign.ensure();
      const cert = await foreign.device('ven-hard');
      const socket = tls.connect({
        host: '127.0.0.1',
        port: stack.config.mqtt.port,
        cert: await readFile(cert.certFile),
        key: await readFile(cert.keyFile),
        ca: await readFile(stack.config.mqtt.caFile),
      });
      socket.on('error', () => undefined);
      const line = await eventually(() => lines.find((l) => l.includes('TLS handshake')));
      expect(line).toMatch(/^warning: TLS handshake from 127\.0\.0\.1:\d+ failed: .+/);
      socket.destroy();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("IoT Core's HTTPS publish with the device certificate", () => {
  const curl = (cert: ProvisionResult, topic: string, body: string) =>
    run(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--cacert',
        stack.config.mqtt.caFile,
        '--cert',
        cert.certFile,
        '--key',
        cert.keyFile,
        '-X',
        'POST',
        '--data-binary',
        '@-',
        `https://127.0.0.1:${stack.config.mqtt.httpsPort}/topics/${encodeURIComponent(topic)}?qos=1`,
      ],
      body,
    );

  it("takes metering as the certificate's device, through the same rules; refuses another device's topic (403, not-authorized)", async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    expect(
      await curl(
        ven,
        topics.metering,
        JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-hard', timestamp, usedPowerKw: 6.5 }),
      ),
    ).toBe('200');
    await stack.settle();
    // the VEN and its reading show a lag after they are stored (eventually consistent reads, as in AWS)
    const items = await eventually(async () => {
      const res = await stack.api(`/api/vens/ven-hard/telemetry?start=${timestamp - 60}&end=${timestamp + 60}`);
      return res.status === 200 && res.body.items.length > 0 && res.body.items;
    });
    expect(items).toEqual([expect.objectContaining({ usedPowerKw: 6.5, source: 'mqtt' })]);

    expect(await curl(ven, topics.ack('ven-other'), JSON.stringify(fixture('volttron-event-ack')))).toBe('403');
    expect((await refusals('ven-hard')).find((r) => r.topic === topics.ack('ven-other'))).toMatchObject({
      reason: 'not-authorized',
    });
    // a payload naming another VEN is the rule's refusal, as over MQTT
    expect(
      await curl(
        ven,
        topics.metering,
        JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-victim', timestamp }),
      ),
    ).toBe('200');
    await stack.settle();
    expect((await stack.api('/api/vens/ven-victim')).status).toBe(404);
  });
});

describe('the error sink', () => {
  it("keeps a payload's text: a number JSON cannot hold (1e999) is shown as sent, not as null", async () => {
    const text = JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-inf' }).replace(
      '"usedPowerKw":8.2',
      '"usedPowerKw":1e999',
    );
    expect(text).toContain('1e999');
    await stack.deliverToRules(topics.metering, Buffer.from(text), 'ven-inf');
    await stack.settle();
    const refusal = await eventually(async () => (await refusals('ven-inf')).find((r) => r.reason === 'schema'));
    expect(refusal?.message).toMatch(/^usedPowerKw: /);
    expect(refusal?.payload).toContain('"usedPowerKw":"Infinity"');
  });
});
