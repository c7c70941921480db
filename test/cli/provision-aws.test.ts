// `npm run provision -- <thing> --aws` as a user runs it: the real IoT client, sent through the SDK's standard endpoint
// variable to a loopback stand-in for the IoT control plane (which has no local form), records the exact requests.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';

const run = promisify(execFile);
const CERT_ARN = 'arn:aws:iot:eu-west-1:123456789012:cert/abc123';
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nDEVICE\n-----END CERTIFICATE-----\n';
const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nCSR\n-----END CERTIFICATE REQUEST-----\n';

let dir: string;
let server: Server;
let requests: { method: string; path: string; body: unknown }[] = [];

/** The IoT REST API's answers, by request line. */
function answer(method: string, path: string): unknown {
  if (method === 'POST' && path.startsWith('/things/')) return { thingName: 'ven-001' };
  if (method === 'PUT' && path === '/thing-groups/addThingToThingGroup') return {};
  if (method === 'POST' && path === '/certificates?setAsActive=true')
    return { certificateArn: CERT_ARN, certificateId: 'abc123', certificatePem: CERT_PEM };
  if (method === 'POST' && path === '/keys-and-certificate?setAsActive=true') {
    return {
      certificateArn: CERT_ARN,
      certificateId: 'abc123',
      certificatePem: CERT_PEM,
      keyPair: { PrivateKey: 'KEY' },
    };
  }
  if (method === 'PUT' && (path.startsWith('/target-policies/') || path.endsWith('/principals'))) return {};
  if (method === 'GET' && path.startsWith('/endpoint'))
    return { endpointAddress: 'a1-ats.iot.eu-west-1.amazonaws.com' };
  return undefined;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-prov-aws-'));
  server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const path = req.url ?? '';
    requests.push({ method: req.method!, path, body: text ? JSON.parse(text) : undefined });
    const reply = answer(req.method!, path);
    res.writeHead(reply ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply ?? { message: `no ${req.method} ${path}` }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await writeFile(
    join(dir, 'cdk-outputs.json'),
    JSON.stringify({
      Vpp: { DevicePolicyName: 'Vpp-DevicePolicy', ThingTypeName: 'Vpp-DeviceType', ThingGroupName: 'Vpp-Devices' },
    }),
  );
  await writeFile(join(dir, 'ven-001.csr'), CSR);
});
afterAll(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  requests = [];
});

const provision = (...args: string[]) =>
  run('npx', ['tsx', 'bin/provision.ts', ...args], {
    env: {
      ...process.env,
      VPP_DIR: dir,
      AWS_ENDPOINT_URL_IOT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
  });

it("puts the thing in the stack's thing type and group, read from cdk deploy --outputs-file, and signs the device's CSR", async () => {
  const { stdout } = await provision(
    'ven-001',
    '--aws',
    '--outputs',
    join(dir, 'cdk-outputs.json'),
    '--csr',
    join(dir, 'ven-001.csr'),
  );

  expect(requests).toEqual([
    { method: 'POST', path: '/things/ven-001', body: { thingTypeName: 'Vpp-DeviceType' } },
    {
      method: 'PUT',
      path: '/thing-groups/addThingToThingGroup',
      body: { thingGroupName: 'Vpp-Devices', thingName: 'ven-001' },
    },
    { method: 'POST', path: '/certificates?setAsActive=true', body: { certificateSigningRequest: CSR } },
    { method: 'PUT', path: '/target-policies/Vpp-DevicePolicy', body: { target: CERT_ARN } },
    { method: 'PUT', path: '/things/ven-001/principals', body: undefined },
    { method: 'GET', path: '/endpoint?endpointType=iot%3AData-ATS', body: undefined },
  ]);
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(result).toEqual({
    thingName: 'ven-001',
    certificateId: 'abc123',
    certFile: join(dir, 'aws-certs', 'ven-001.cert.pem'),
    caFile: join(dir, 'aws-certs', 'AmazonRootCA1.pem'),
    endpoint: 'a1-ats.iot.eu-west-1.amazonaws.com',
    port: 8883,
  });
  expect(await readFile(result.certFile, 'utf8')).toBe(CERT_PEM);
  expect(existsSync(join(dir, 'aws-certs', 'ven-001.private.key'))).toBe(false);
});

it('without the stack outputs or a policy, refuses before calling AWS', async () => {
  await expect(provision('ven-002', '--aws')).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/--outputs <file of cdk deploy --outputs-file>/),
  });
  expect(requests).toEqual([]);
});
