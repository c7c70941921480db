// One identity check for every way in, proven from real clients (curl with client certificates over IoT Core's HTTPS
// publish, the device SDK, mosquitto_sub): a certificate speaks only while the registry holds it ACTIVE, as the thing
// it is attached to, never as a name inside it; the claim certificate reaches the provisioning topics over MQTT only.
import { CreateJobCommand, DescribeJobExecutionCommand, IoTClient } from '@aws-sdk/client-iot';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { X509Certificate } from 'node:crypto';
import mqtt from 'mqtt';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdOf } from '../../bin/local/iot/cert-registry.js';
import { LocalCa } from '../../bin/local/iot/certs.js';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { SERIAL_PARAMETER } from '../../lambdas/core/fleet/provisioning-hook.js';
import { provisioningTopics, topics } from '../../lambdas/core/contracts/topics.js';
import { CSR_BURST } from '../../bin/local/iot/provisioning-service.js';
import { fixture, fixtureText } from '../fixture.js';
import { errorSink, eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice, type TestDevice } from './sdk-client.js';

const run = promisify(execFile);
let stack: TestStack;
let claim: { certFile: string; keyFile: string; caFile: string };

beforeAll(async () => {
  stack = await startTestStack();
  claim = await new LocalCa(stack.dir).claim();
});
afterAll(() => stack?.dispose());

/** `curl` POSTing to IoT Core's HTTPS publish with a client certificate: the HTTP status. */
const httpsPublish = (cert: { certFile: string; keyFile: string }, topic: string, body: string) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile(
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
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
    child.stdin!.end(body);
  });

const metering = (venId: string) =>
  JSON.stringify({ ...fixture('volttron-metering'), venId, timestamp: Math.floor(Date.now() / 1000) });
const certificateId = async (files: { certFile: string }) => certificateIdOf(await readFile(files.certFile));
const venStatus = async (venId: string) => {
  await stack.settle();
  return (await stack.api(`/api/vens/${venId}`)).status;
};

/** A CSR (and its key) whose subject is CN=`cn`. */
async function csrNaming(cn: string): Promise<{ csr: string; keyFile: string }> {
  const keyFile = join(stack.dir, `minted-${cn}.key`);
  const csrFile = join(stack.dir, `minted-${cn}.csr`);
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
    `/CN=${cn}`,
  ]);
  return { csr: await readFile(csrFile, 'utf8'), keyFile };
}

/** A connection with the shared claim certificate, subscribed to the provisioning answers. */
async function claimConnection(clientId: string): Promise<TestDevice> {
  const target = { endpoint: stack.config.mqtt.host, port: stack.config.mqtt.port, caFile: stack.config.mqtt.caFile };
  const conn = await connectDevice({ ...claim, ...target }, clientId);
  const register = provisioningTopics.provision(stack.config.provisioning.templateName);
  for (const request of [provisioningTopics.createFromCsr, register]) {
    await conn.subscribe(provisioningTopics.accepted(request));
    await conn.subscribe(provisioningTopics.rejected(request));
  }
  return conn;
}

/** A certificate minted with the shared claim certificate (CreateCertificateFromCsr), its CSR naming `cn`. */
async function mint(cn: string): Promise<{ certFile: string; keyFile: string; certificateId: string }> {
  const { csr, keyFile } = await csrNaming(cn);
  const asker = await claimConnection(`claim-${cn}`);
  try {
    const accepted = provisioningTopics.accepted(provisioningTopics.createFromCsr);
    await asker.publish(provisioningTopics.createFromCsr, JSON.stringify({ certificateSigningRequest: csr }));
    const answer = JSON.parse((await eventually(() => asker.received.find((m) => m.topic === accepted))).payload);
    const certFile = join(stack.dir, `minted-${cn}.crt`);
    await writeFile(certFile, answer.certificatePem);
    return { certFile, keyFile, certificateId: answer.certificateId };
  } finally {
    await asker.close();
  }
}

describe('HTTPS publish checks the certificate registry, as an MQTT connect does', () => {
  it('a revoked certificate is refused (403), its metering never stored', async () => {
    const device = await stack.provision('hx-rev1');
    expect(await httpsPublish(device, topics.metering, metering('hx-rev1'))).toBe('200'); // a live certificate publishes
    expect((await stack.api('/api/devices/hx-rev1/revoke', { method: 'POST' })).status).toBe(200);

    expect(await httpsPublish(device, topics.metering, metering('hx-rev1'))).toBe('403');
    await eventually(async () =>
      (await errorSink(stack.config.errorsFile)).some(
        (e) => e.reason === 'not-authorized' && /REVOKED \(HTTPS publish\)/.test(e.message),
      ),
    );
    // its one message from before registered it (the registry read is eventually consistent, as in AWS)
    await eventually(async () => (await venStatus('hx-rev1')) === 200);
  });

  it('npm run provision -- <revoked thing> issues a new certificate (exit 0); the revoked one stays refused', async () => {
    const revoked = await stack.provision('hx-rev2');
    const revokedId = await certificateId(revoked);
    expect((await stack.api('/api/devices/hx-rev2/revoke', { method: 'POST' })).status).toBe(200);

    const { stdout } = await run('npx', ['tsx', 'bin/provision.ts', 'hx-rev2'], {
      env: { ...process.env, VPP_DIR: stack.dir },
    });
    const renewed = JSON.parse(stdout.trim().split('\n').at(-1)!);
    const renewedId = await certificateId(renewed);
    expect(renewedId).not.toBe(revokedId);
    const registry = new LocalCa(stack.dir).registry;
    expect(registry.get(renewedId)).toMatchObject({ status: 'ACTIVE', thingName: 'hx-rev2' });
    expect(registry.get(revokedId)).toMatchObject({ status: 'REVOKED' });
    expect(await httpsPublish(renewed, topics.metering, metering('hx-rev2'))).toBe('200');
  });

  it('a topic that is not valid percent-encoding is a 404, and the endpoint carries on', async () => {
    const device = await stack.provision('hx-enc');
    const post = (path: string) =>
      run('curl', [
        '-s',
        '-m',
        '10',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--cacert',
        stack.config.mqtt.caFile,
        '--cert',
        device.certFile,
        '--key',
        device.keyFile,
        '-X',
        'POST',
        '--data-binary',
        '{}',
        `https://127.0.0.1:${stack.config.mqtt.httpsPort}${path}`,
      ]);
    expect((await post('/topics/%E0%A4?qos=1')).stdout).toBe('404');
    expect(await httpsPublish(device, topics.metering, metering('hx-enc'))).toBe('200');
  });

  it('a deactivated certificate (the old one after a rotation) is refused (403)', async () => {
    const device = await stack.provision('hx-rot');
    const id = await certificateId(device);
    expect((await stack.api(`/api/certificates/${id}/deactivate`, { method: 'POST' })).status).toBeLessThan(300);

    expect(await httpsPublish(device, topics.metering, metering('hx-rot'))).toBe('403');
    expect(await venStatus('hx-rot')).toBe(404);
  });

  it('the claim certificate publishes no device data over HTTPS (403): no VEN vpp-claim appears', async () => {
    expect(await httpsPublish(claim, topics.metering, metering('vpp-claim'))).toBe('403');
    expect(await httpsPublish(claim, provisioningTopics.createFromCsr, '{}')).toBe('403');
    expect(await venStatus('vpp-claim')).toBe(404);
  });
});

describe('a certificate minted with the claim certificate, its CSR naming a fleet device', () => {
  let ven1: ProvisionResult;
  beforeAll(async () => {
    ven1 = await stack.provision('ven-001');
  });

  it("cannot rewrite ven-001's shadow (403); ven-001's own certificate still can", async () => {
    const forged = await mint('ven-001');
    expect(new LocalCa(stack.dir).registry.get(forged.certificateId)).not.toHaveProperty('thingName');
    expect(await httpsPublish(ven1, topics.shadow('ven-001', 'update'), fixtureText('volttron-shadow-reported'))).toBe(
      '200',
    );

    expect(
      await httpsPublish(
        forged,
        topics.shadow('ven-001', 'update'),
        JSON.stringify({ state: { reported: { hx_injected: '<img src=x>' } } }),
      ),
    ).toBe('403');
    await stack.settle();
    const shadow = await eventually(async () => {
      const res = await stack.api('/api/vens/ven-001/shadow');
      return res.status === 200 && res.body;
    });
    expect(JSON.stringify(shadow)).not.toContain('hx_injected');
    // over MQTT it never connected either
    const target = { endpoint: stack.config.mqtt.host, port: stack.config.mqtt.port, caFile: stack.config.mqtt.caFile };
    await expect(connectDevice({ ...forged, ...target }, 'ven-001')).rejects.toThrow(/Failed to connect/);
  });

  it("cannot forge another device's command ACK (403): the command stays sent", async () => {
    await stack.provision('hx-ven-a');
    await stack.deliverToRules(topics.metering, Buffer.from(metering('hx-ven-a')), 'hx-ven-a');
    await stack.settle();
    // a registration just made shows a lag later, in AWS too: an operator sees the VEN before sending it an event
    await eventually(async () => (await stack.api('/api/vens/hx-ven-a')).status === 200);
    const sent = await stack.api('/api/vens/hx-ven-a/send-event', {
      method: 'POST',
      body: JSON.stringify({ shed_kw: 1, duration_sec: 60 }),
    });
    expect(sent.status).toBe(202);
    const forged = await mint('hx-ven-a');

    const ack = {
      ...fixture('volttron-event-ack'),
      correlationId: sent.body.correlationId,
      actual_shed_kw: 99,
      ts: Math.floor(Date.now() / 1000),
    };
    expect(await httpsPublish(forged, topics.ack('hx-ven-a'), JSON.stringify(ack))).toBe('403');
    await stack.settle();
    expect((await stack.api(`/api/commands/${sent.body.correlationId}`)).body).toMatchObject({
      status: 'sent',
      ack: null,
    });
  });

  it("cannot mark another device's job SUCCEEDED (403): the execution stays QUEUED", async () => {
    const { credentials } = stack.config;
    const iot = new IoTClient({ endpoint: stack.config.apiUrl, region: credentials.region, credentials });
    await stack.provision('hx-ven-b');
    await iot.send(
      new CreateJobCommand({
        jobId: 'hx-sec-fix',
        targets: ['arn:aws:iot:us-east-1:000000000000:thing/hx-ven-b'],
        document: '{"operation":"noop"}',
      }),
    );
    const forged = await mint('hx-ven-b');

    expect(
      await httpsPublish(
        forged,
        '$aws/things/hx-ven-b/jobs/hx-sec-fix/update',
        JSON.stringify({ status: 'SUCCEEDED', statusDetails: { from: 'forged' } }),
      ),
    ).toBe('403');
    await stack.settle();
    const execution = (await iot.send(new DescribeJobExecutionCommand({ jobId: 'hx-sec-fix', thingName: 'hx-ven-b' })))
      .execution!;
    expect(execution.status).toBe('QUEUED');
  });
});

describe("a revoked device's Last Will", () => {
  it('is not published: mosquitto_sub with a will on metering, revoked while connected, leaves no VEN behind', async () => {
    const device = await stack.provision('hx-will');
    const sub = spawn('stdbuf', [
      // line-buffered: its debug lines say when it is subscribed
      '-oL',
      'mosquitto_sub',
      '-d',
      '-h',
      device.endpoint,
      '-p',
      String(device.port),
      '--cafile',
      device.caFile,
      '--cert',
      device.certFile,
      '--key',
      device.keyFile,
      '-i',
      'hx-will',
      '-t',
      topics.command('hx-will'),
      '--will-topic',
      topics.metering,
      '--will-payload',
      metering('hx-will'),
      '--will-qos',
      '1',
    ]);
    let output = '';
    sub.stdout.on('data', (d: Buffer) => (output += d.toString()));
    sub.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await eventually(() => output.includes('SUBACK'));
      expect((await stack.api('/api/devices/hx-will/revoke', { method: 'POST' })).status).toBe(200);
      // either the will is refused (recorded) or it was taken and stored
      await eventually(
        async () =>
          (await errorSink(stack.config.errorsFile)).some(
            (e) => e.clientId === 'hx-will' && e.topic === topics.metering,
          ) || (await venStatus('hx-will')) === 200,
      );
      expect(await venStatus('hx-will')).toBe(404);
    } finally {
      sub.kill();
    }
  });
});

describe('claim provisioning', () => {
  const answers = (conn: TestDevice, request: string) =>
    conn.received.filter(
      (m) => m.topic === provisioningTopics.accepted(request) || m.topic === provisioningTopics.rejected(request),
    );

  it("create-from-csr never copies the requester's subject: a CSR naming ven-001 gets AWS IoT's subject, PENDING_ACTIVATION, attached to nothing", async () => {
    const minted = await mint('ven-001');
    const subject = new X509Certificate(await readFile(minted.certFile)).subject;
    expect(subject).toBe('CN=AWS IoT Certificate');
    expect(new LocalCa(stack.dir).registry.get(minted.certificateId)).toMatchObject({
      status: 'PENDING_ACTIVATION',
      policy: 'device',
    });
  });

  it(`create-from-csr is throttled per claim connection: of 20 at once, ${CSR_BURST} accepted, the rest ThrottlingException; /health stays fast`, async () => {
    const conn = await claimConnection('claim-burst');
    const { csr } = await csrNaming('burst');
    const before = new LocalCa(stack.dir).registry.all().length;
    const health: number[] = [];
    await fetch(`${stack.config.apiUrl}/health`); // (the client's connection set up before it is timed)
    let bursting = true;
    const probe = (async () => {
      while (bursting) {
        const t = performance.now();
        await fetch(`${stack.config.apiUrl}/health`);
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          conn.publish(provisioningTopics.createFromCsr, JSON.stringify({ certificateSigningRequest: csr })),
        ),
      );
      const got = await eventually(
        () =>
          answers(conn, provisioningTopics.createFromCsr).length >= 20 &&
          answers(conn, provisioningTopics.createFromCsr),
        30_000,
      );
      const accepted = got.filter((m) => m.topic.endsWith('/accepted'));
      expect(accepted).toHaveLength(CSR_BURST);
      expect(got.filter((m) => m.topic.endsWith('/rejected')).map((m) => JSON.parse(m.payload).errorCode)).toEqual(
        Array(20 - CSR_BURST).fill('ThrottlingException'),
      );
      expect(new LocalCa(stack.dir).registry.all().length - before).toBe(CSR_BURST);
    } finally {
      bursting = false;
      await probe;
      await conn.close();
    }
    console.log(`/health during the burst: ${health.length} probes, slowest ${Math.max(...health).toFixed(0)} ms`);
    expect(Math.max(...health)).toBeLessThan(2000); // generous: two test files share 2 cores
  });

  it('an ownership token is accepted once: two RegisterThing with one token, the second is rejected and its serial stays unclaimed', async () => {
    const { dynamodbEndpoint, allowListTable } = stack.config.provisioning;
    const doc = documentClient(
      new DynamoDBClient({
        endpoint: dynamodbEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    for (const serial of ['hx-serial-3', 'hx-serial-4'])
      await doc.send(new PutCommand({ TableName: allowListTable, Item: { serial } }));
    const conn = await claimConnection('claim-twice');
    const register = provisioningTopics.provision(stack.config.provisioning.templateName);
    try {
      const { csr } = await csrNaming('twice');
      await conn.publish(provisioningTopics.createFromCsr, JSON.stringify({ certificateSigningRequest: csr }));
      const { certificateOwnershipToken, certificateId } = JSON.parse(
        (await eventually(() => answers(conn, provisioningTopics.createFromCsr)[0])).payload,
      );
      // both sent before either is answered
      await Promise.all(
        ['hx-serial-3', 'hx-serial-4'].map((serial) =>
          conn.publish(
            register,
            JSON.stringify({ certificateOwnershipToken, parameters: { [SERIAL_PARAMETER]: serial } }),
          ),
        ),
      );
      const got = await eventually(() => answers(conn, register).length >= 2 && answers(conn, register));
      expect(got.map((m) => m.topic.split('/').at(-1)).sort()).toEqual(['accepted', 'rejected']);
      const thing = JSON.parse(got.find((m) => m.topic.endsWith('/accepted'))!.payload).thingName;
      expect(JSON.parse(got.find((m) => m.topic.endsWith('/rejected'))!.payload).errorCode).toBe(
        'InvalidCertificateOwnershipToken',
      );
      expect(new LocalCa(stack.dir).registry.get(certificateId)).toMatchObject({ status: 'ACTIVE', thingName: thing });
      const other = thing === 'hx-serial-3' ? 'hx-serial-4' : 'hx-serial-3';
      const entry = await doc.send(
        new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
          TableName: allowListTable,
          Key: { serial: other },
          ConsistentRead: true, // the claim, had it happened, is a write just made
        }),
      );
      expect(entry.Item).not.toHaveProperty('claimedAt');
    } finally {
      await conn.close();
    }
  });
});

describe('WebSocket upgrades', () => {
  it('to a path other than /mqtt are answered 404 and closed, without a token', async () => {
    const { port } = new URL(stack.config.apiUrl);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      'GET /foo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const outcome = await Promise.race([
      closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open after 5 s'), 5_000)),
    ]);
    socket.destroy();
    expect(outcome).toBe('closed');
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  });
});

describe("the live feed's operator client ids", () => {
  const connectOperator = (password: string, clientId: string) =>
    mqtt.connectAsync(stack.config.wsUrl, {
      username: 'operator',
      password,
      clientId,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });

  it("another token's holder cannot take a dashboard's operator-* client id and knock it off", async () => {
    const first = await connectOperator(stack.config.tokens.admin, 'operator-dup');
    let kicked = false;
    first.on('close', () => (kicked = true));
    try {
      await expect(connectOperator(stack.config.tokens.viewer, 'operator-dup')).rejects.toThrow(/Not authorized/i);
      await new Promise((r) => setTimeout(r, 300));
      expect(kicked).toBe(false);
      expect(first.connected).toBe(true);
    } finally {
      await first.endAsync();
    }
  });
});
