// One identity check for every way in, proven from real clients (curl with client certificates over IoT Core's HTTPS
// publish, the device SDK, mosquitto_sub): a certificate speaks only while the registry holds it ACTIVE, as the thing
// it is attached to, never as a name inside it; the claim certificate reaches the provisioning topics over MQTT only.
import { CreateJobCommand, DescribeJobExecutionCommand, IoTClient } from '@aws-sdk/client-iot';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdOf } from '../../bin/local/cert-registry.js';
import { LocalCa } from '../../bin/local/certs.js';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { provisioningTopics, topics } from '../../lambdas/core/topics.js';
import { fixture, fixtureText } from '../fixture.js';
import { errorSink, eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

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
    const child = execFile('curl', [
      '-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', stack.config.mqtt.caFile, '--cert', cert.certFile, '--key', cert.keyFile,
      '-X', 'POST', '--data-binary', '@-', `https://127.0.0.1:${stack.config.mqtt.httpsPort}/topics/${encodeURIComponent(topic)}?qos=1`,
    ], (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end(body);
  });

const metering = (venId: string) => JSON.stringify({ ...fixture('seed-001-metering'), venId, timestamp: Math.floor(Date.now() / 1000) });
const certificateId = async (files: { certFile: string }) => certificateIdOf(await readFile(files.certFile));
const venStatus = async (venId: string) => {
  await stack.settle();
  return (await stack.api(`/api/vens/${venId}`)).status;
};

/** A certificate minted with the shared claim certificate (CreateCertificateFromCsr), its CSR naming `cn`. */
async function mint(cn: string): Promise<{ certFile: string; keyFile: string; certificateId: string }> {
  const keyFile = join(stack.dir, `minted-${cn}.key`);
  const csrFile = join(stack.dir, `minted-${cn}.csr`);
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${cn}`]);
  const target = { endpoint: stack.config.mqtt.host, port: stack.config.mqtt.port, caFile: stack.config.mqtt.caFile };
  const asker = await connectDevice({ ...claim, ...target }, `claim-${cn}`);
  try {
    const accepted = provisioningTopics.accepted(provisioningTopics.createFromCsr);
    await asker.subscribe(accepted);
    await asker.publish(provisioningTopics.createFromCsr, JSON.stringify({ certificateSigningRequest: await readFile(csrFile, 'utf8') }));
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
    await eventually(async () => (await errorSink(stack.config.errorsFile)).some((e) => e.reason === 'not-authorized' && /REVOKED \(HTTPS publish\)/.test(e.message)));
    expect(await venStatus('hx-rev1')).toBe(200); // (its one message from before)
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
    expect(await httpsPublish(ven1, topics.shadow('ven-001', 'update'), fixtureText('seed-001-shadow-reported'))).toBe('200');

    expect(await httpsPublish(forged, topics.shadow('ven-001', 'update'), JSON.stringify({ state: { reported: { hx_injected: '<img src=x>' } } }))).toBe('403');
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
    const sent = await stack.api('/api/vens/hx-ven-a/send-event', { method: 'POST', body: JSON.stringify({ shed_kw: 1, duration_sec: 60 }) });
    expect(sent.status).toBe(202);
    const forged = await mint('hx-ven-a');

    const ack = { ...fixture('seed-001-event-ack'), correlationId: sent.body.correlationId, actual_shed_kw: 99, ts: Math.floor(Date.now() / 1000) };
    expect(await httpsPublish(forged, topics.ack('hx-ven-a'), JSON.stringify(ack))).toBe('403');
    await stack.settle();
    expect((await stack.api(`/api/commands/${sent.body.correlationId}`)).body).toMatchObject({ status: 'sent', ack: null });
  });

  it("cannot mark another device's job SUCCEEDED (403): the execution stays QUEUED", async () => {
    const { credentials } = stack.config;
    const iot = new IoTClient({ endpoint: stack.config.apiUrl, region: credentials.region, credentials });
    await stack.provision('hx-ven-b');
    await iot.send(new CreateJobCommand({ jobId: 'hx-sec-fix', targets: ['arn:aws:iot:us-east-1:000000000000:thing/hx-ven-b'], document: '{"operation":"noop"}' }));
    const forged = await mint('hx-ven-b');

    expect(await httpsPublish(forged, '$aws/things/hx-ven-b/jobs/hx-sec-fix/update', JSON.stringify({ status: 'SUCCEEDED', statusDetails: { from: 'forged' } }))).toBe('403');
    await stack.settle();
    const execution = (await iot.send(new DescribeJobExecutionCommand({ jobId: 'hx-sec-fix', thingName: 'hx-ven-b' }))).execution!;
    expect(execution.status).toBe('QUEUED');
  });
});

describe("a revoked device's Last Will", () => {
  it('is not published: mosquitto_sub with a will on metering, revoked while connected, leaves no VEN behind', async () => {
    const device = await stack.provision('hx-will');
    const sub = spawn('stdbuf', [ // line-buffered: its debug lines say when it is subscribed
      '-oL', 'mosquitto_sub', '-d', '-h', device.endpoint, '-p', String(device.port), '--cafile', device.caFile, '--cert', device.certFile, '--key', device.keyFile,
      '-i', 'hx-will', '-t', topics.command('hx-will'), '--will-topic', topics.metering, '--will-payload', metering('hx-will'), '--will-qos', '1',
    ]);
    let output = '';
    sub.stdout.on('data', (d: Buffer) => (output += d.toString()));
    sub.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await eventually(() => output.includes('SUBACK'));
      expect((await stack.api('/api/devices/hx-will/revoke', { method: 'POST' })).status).toBe(200);
      // either the will is refused (recorded) or it was taken and stored
      await eventually(async () => (await errorSink(stack.config.errorsFile)).some((e) => e.clientId === 'hx-will' && e.topic === topics.metering) || (await venStatus('hx-will')) === 200);
      expect(await venStatus('hx-will')).toBe(404);
    } finally {
      sub.kill();
    }
  });
});
