// Onboarding a device without its private key ever leaving it, over the local stack with the real device SDK:
// a CSR signed by `npm run provision -- <thing> --csr`, and fleet provisioning by claim (the agent's first boot:
// claim certificate → CreateCertificateFromCsr → RegisterThing through the template's allow-list hook → its own
// certificate → metering stored).
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdOf } from '../../bin/local/iot/cert-registry.js';
import { LocalCa } from '../../bin/local/iot/certs.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { provisioningTopics, topics } from '../../lambdas/core/contracts/topics.js';
import { startAgent, type Agent } from '../../device/agent.js';
import { loadConfig } from '../../device/config.js';
import { silentLog } from '../../device/log.js';
import { fixture } from '../fixture.js';
import { errorSink, eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

const run = promisify(execFile);
let stack: TestStack;
let ca: LocalCa;
let claim: { certFile: string; keyFile: string; caFile: string };
const agents: Agent[] = [];

const provisionCli = async (...args: string[]) => {
  const { stdout } = await run('npx', ['tsx', 'bin/provision.ts', ...args], {
    env: { ...process.env, VPP_DIR: stack.dir },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
};

beforeAll(async () => {
  stack = await startTestStack();
  await writeFile(join(stack.dir, 'local.json'), JSON.stringify(stack.config)); // as npm start does
  ca = new LocalCa(stack.dir);
  claim = await provisionCli('--claim');
  expect(await provisionCli('ven-701', '--allow')).toEqual({ serial: 'ven-701', allowed: true });
  const { dynamodbEndpoint, allowListTable } = stack.config.provisioning;
  const doc = documentClient(
    new DynamoDBClient({
      endpoint: dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  await doc.send(new PutCommand({ TableName: allowListTable, Item: { serial: 'ven-703', disabled: true } }));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await stack?.dispose();
});

const mqttTarget = () => ({
  endpoint: stack.config.mqtt.host,
  port: stack.config.mqtt.port,
  caFile: stack.config.mqtt.caFile,
});

function claimAgentConfig(serial: string) {
  const result = loadConfig(
    [
      '--mode',
      'ven',
      '--profile',
      'volttron',
      '--client-id',
      serial,
      '--endpoint',
      stack.config.mqtt.host,
      '--port',
      String(stack.config.mqtt.port),
      '--ca',
      stack.config.mqtt.caFile,
      '--cert',
      join(stack.dir, 'device', `${serial}.cert.pem`),
      '--key',
      join(stack.dir, 'device', `${serial}.private.key`),
      '--claim-cert',
      claim.certFile,
      '--claim-key',
      claim.keyFile,
      '--provisioning-template',
      stack.config.provisioning.templateName,
      '--web-port',
      'off',
      '--interval-sec',
      '1',
      '--data-dir',
      join(stack.dir, 'agent', serial),
      '--reconnect-max-sec',
      '2',
    ],
    {},
  );
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

describe('fleet provisioning by claim', () => {
  it('a serial on the allow-list: the agent exchanges the claim certificate for its own, reconnects with it and its metering is stored', async () => {
    const config = claimAgentConfig('ven-701');
    const agent = await startAgent(config, { log: silentLog });
    agents.push(agent);

    expect(agent.connected).toBe(true);
    expect(statSync(config.keyFile).mode & 0o777).toBe(0o600);
    const certificateId = certificateIdOf(await readFile(config.certFile));
    expect(ca.registry.get(certificateId)).toMatchObject({ status: 'ACTIVE', policy: 'device', thingName: 'ven-701' });
    const stored = await eventually(async () => {
      await stack.settle();
      const ven = await stack.api('/api/vens/ven-701');
      return ven.status === 200 && ven.body;
    }, 15_000);
    expect(stored).toMatchObject({ venId: 'ven-701' });
  });

  it.each([
    ['not on the allow-list', 'ven-702'],
    ['withdrawn from the allow-list', 'ven-703'],
  ])(
    'a serial %s is refused: no certificate is written and no certificate is attached to a thing of that name',
    async (_why, serial) => {
      const config = claimAgentConfig(serial);

      await expect(startAgent(config, { log: silentLog })).rejects.toThrow(
        new RegExp(`RegisterThing rejected: .*${serial} is not on the allow-list .*\\(AccessDenied\\)`),
      );

      expect(existsSync(config.certFile)).toBe(false);
      expect(existsSync(config.keyFile)).toBe(false);
      expect(existsSync(`${config.keyFile}.pending`)).toBe(false);
      expect(ca.registry.ofThing(serial)).toEqual([]);
      await stack.settle();
      expect((await stack.api(`/api/vens/${serial}`)).status).toBe(404);
    },
  );

  it('a serial provisions once: a second claim of ven-701 (a copied claim certificate) gets no certificate for it', async () => {
    const clone = {
      ...claimAgentConfig('ven-701'),
      certFile: join(stack.dir, 'clone.cert.pem'),
      keyFile: join(stack.dir, 'clone.private.key'),
    };

    await expect(startAgent(clone, { log: silentLog })).rejects.toThrow(
      /RegisterThing rejected: .*ven-701 .*provisioned already/,
    );

    expect(existsSync(clone.certFile)).toBe(false);
    expect(ca.registry.ofThing('ven-701')).toHaveLength(1);
  });

  it('answers a provisioning request to the connection that asked only: another claim holder never sees the certificate', async () => {
    const accepted = provisioningTopics.accepted(provisioningTopics.createFromCsr);
    const spy = await connectDevice({ ...claim, ...mqttTarget() }, 'claim-spy');
    const asker = await connectDevice({ ...claim, ...mqttTarget() }, 'claim-asker');
    try {
      await spy.subscribe(accepted);
      await asker.subscribe(accepted);
      const csrFile = join(stack.dir, 'asker.csr');
      await run('openssl', [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(stack.dir, 'asker.key'),
        '-out',
        csrFile,
        '-subj',
        '/CN=asker',
      ]);
      await asker.publish(
        provisioningTopics.createFromCsr,
        JSON.stringify({ certificateSigningRequest: await readFile(csrFile, 'utf8') }),
      );
      const answer = await eventually(() => asker.received.find((m) => m.topic === accepted));
      expect(JSON.parse(answer.payload)).toMatchObject({
        certificateId: expect.stringMatching(/^[0-9a-f]{64}$/),
        certificatePem: expect.stringContaining('BEGIN CERTIFICATE'),
        certificateOwnershipToken: expect.any(String),
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(spy.received).toEqual([]);
    } finally {
      await spy.close();
      await asker.close();
    }
  });

  it('the claim certificate reaches only the provisioning topics: metering with it drops the connection and is refused', async () => {
    // as a provisioned device's client id it may not even connect: it could drop that device
    await expect(connectDevice({ ...claim, ...mqttTarget() }, 'ven-701')).rejects.toThrow(/Failed to connect/);
    const device = await connectDevice({ ...claim, ...mqttTarget() }, 'claim-ven-704');
    try {
      expect((await device.subscribe(topics.command('ven-704'))).qos).toBe(128);
      expect((await device.subscribe(provisioningTopics.accepted(provisioningTopics.createFromCsr))).qos).toBe(1);
      await device.publish(
        topics.metering,
        JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-704' }),
        mqtt.QoS.AtMostOnce,
      );
      await eventually(() => device.interrupted());
      await eventually(async () =>
        (await errorSink(stack.config.errorsFile)).some(
          (e) => e.clientId === 'claim-ven-704' && e.reason === 'not-authorized',
        ),
      );
      await stack.settle();
      expect((await stack.api('/api/vens/ven-704')).status).toBe(404);
    } finally {
      await device.close();
    }
  });
});

describe('provisioning from a CSR', () => {
  it("npm run provision -- <thing> --csr signs the device's own CSR: no key is written, and the device connects with the key it kept", async () => {
    const keyFile = join(stack.dir, 'ven-801.key');
    const csrFile = join(stack.dir, 'ven-801.csr');
    await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      csrFile,
      '-subj',
      '/CN=anything',
    ]);

    const { stdout } = await run('npx', ['tsx', 'bin/provision.ts', 'ven-801', '--csr', csrFile], {
      env: { ...process.env, VPP_DIR: stack.dir, VPP_MQTT_PORT: String(stack.config.mqtt.port) },
    });

    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result).toEqual({
      thingName: 'ven-801',
      certificateId: expect.stringMatching(/^[0-9a-f]{64}$/),
      certFile: join(stack.dir, 'certs', 'ven-801.cert.pem'),
      caFile: stack.config.mqtt.caFile,
      endpoint: '127.0.0.1',
      port: stack.config.mqtt.port,
    });
    expect(existsSync(join(stack.dir, 'certs', 'ven-801.private.key'))).toBe(false);
    const device = await connectDevice({ ...mqttTarget(), certFile: result.certFile, keyFile }, 'ven-801');
    try {
      await device.publish(topics.metering, JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-801' }));
      await eventually(async () => {
        await stack.settle();
        return (await stack.api('/api/vens/ven-801')).status === 200;
      });
    } finally {
      await device.close();
    }
    // the certificate is the thing's: it connects as nothing else
    await expect(connectDevice({ ...mqttTarget(), certFile: result.certFile, keyFile }, 'ven-802')).rejects.toThrow(
      /Failed to connect/,
    );
  });
});
