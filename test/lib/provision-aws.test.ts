import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DescribeEndpointCommand,
  IoTClient,
  ResourceAlreadyExistsException,
  UnauthorizedException,
} from '@aws-sdk/client-iot';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AMAZON_ROOT_CA_1, provisionAws, stackTargets } from '../../bin/provision-aws.js';

const CERT_ARN = 'arn:aws:iot:eu-west-1:123456789012:cert/abc123';
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nDEVICE\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN RSA PRIVATE KEY-----\nSECRET\n-----END RSA PRIVATE KEY-----\n';
const ENDPOINT = 'a1b2c3-ats.iot.eu-west-1.amazonaws.com';

type Reply = (input: unknown) => unknown;

/** A real IoTClient whose `send` answers from canned outputs, recording every command it is given. */
function fakeIot(overrides: Record<string, Reply> = {}) {
  const iot = new IoTClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const replies: Record<string, Reply> = {
    CreateThingCommand: () => ({ thingName: 'ven-001' }),
    AddThingToThingGroupCommand: () => ({}),
    CreateKeysAndCertificateCommand: () => ({
      certificateArn: CERT_ARN,
      certificateId: 'abc123',
      certificatePem: CERT_PEM,
      keyPair: { PublicKey: 'PUBLIC', PrivateKey: KEY_PEM },
    }),
    AttachPolicyCommand: () => ({}),
    AttachThingPrincipalCommand: () => ({}),
    DescribeEndpointCommand: () => ({ endpointAddress: ENDPOINT }),
    CreateCertificateFromCsrCommand: () => ({
      certificateArn: CERT_ARN,
      certificateId: 'abc123',
      certificatePem: CERT_PEM,
    }),
    ...overrides,
  };
  const send = vi.spyOn(iot, 'send').mockImplementation((async (command: {
    constructor: { name: string };
    input: unknown;
  }) => {
    const reply = replies[command.constructor.name];
    if (!reply) throw new Error(`unexpected ${command.constructor.name}`);
    return reply(command.input);
  }) as never);
  const requests = () => send.mock.calls.map(([command]) => [command.constructor.name, command.input]);
  return { iot, requests };
}

describe('provisionAws', () => {
  let outDir: string;
  beforeEach(() => {
    outDir = join(mkdtempSync(join(tmpdir(), 'provision-')), 'certs');
  });

  it('given a new device, creates thing, certificate, attachments and reads the endpoint, in this order', async () => {
    const { iot, requests } = fakeIot();

    const result = await provisionAws('ven-001', { iot, policyName: 'VppDevicePolicy', outDir });

    expect(requests()).toEqual([
      [CreateThingCommand.name, { thingName: 'ven-001' }],
      [CreateKeysAndCertificateCommand.name, { setAsActive: true }],
      [AttachPolicyCommand.name, { policyName: 'VppDevicePolicy', target: CERT_ARN }],
      [AttachThingPrincipalCommand.name, { thingName: 'ven-001', principal: CERT_ARN }],
      [DescribeEndpointCommand.name, { endpointType: 'iot:Data-ATS' }],
    ]);
    expect(result).toEqual({
      thingName: 'ven-001',
      certificateId: 'abc123',
      certFile: join(outDir, 'ven-001.cert.pem'),
      keyFile: join(outDir, 'ven-001.private.key'),
      caFile: join(outDir, 'AmazonRootCA1.pem'),
      endpoint: ENDPOINT,
      port: 8883,
    });
  });

  it('given a new device, writes the certificate, the key readable by its owner only, and Amazon Root CA 1', async () => {
    const { iot } = fakeIot();

    const { certFile, keyFile, caFile } = await provisionAws('ven-001', { iot, policyName: 'p', outDir });

    expect(readFileSync(certFile, 'utf8')).toBe(CERT_PEM);
    expect(readFileSync(keyFile!, 'utf8')).toBe(KEY_PEM);
    expect(statSync(keyFile!).mode & 0o777).toBe(0o600);
    const ca = new X509Certificate(readFileSync(caFile));
    expect(ca.subject).toBe('C=US\nO=Amazon\nCN=Amazon Root CA 1');
    expect(ca.fingerprint256).toBe(
      '8E:CD:E6:88:4F:3D:87:B1:12:5B:A3:1A:C3:FC:B1:3D:70:16:DE:7F:57:CC:90:4F:E1:CB:97:C6:AE:98:19:6E',
    );
    expect(readFileSync(caFile, 'utf8')).toBe(AMAZON_ROOT_CA_1);
  });

  it('given a key file left world-readable by an earlier run, makes the new key owner-only', async () => {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'ven-001.private.key'), 'old', { mode: 0o644 });
    const { iot } = fakeIot();

    const { keyFile } = await provisionAws('ven-001', { iot, policyName: 'p', outDir });

    expect(statSync(keyFile!).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile!, 'utf8')).toBe(KEY_PEM);
  });

  it('given a thing that already exists with other settings, keeps it and issues a new certificate', async () => {
    const { iot, requests } = fakeIot({
      CreateThingCommand: () => {
        throw new ResourceAlreadyExistsException({ message: 'exists', $metadata: {}, resourceId: 'ven-001' });
      },
    });

    await provisionAws('ven-001', { iot, policyName: 'p', outDir });

    expect(requests().map(([name]) => name)).toEqual([
      CreateThingCommand.name,
      CreateKeysAndCertificateCommand.name,
      AttachPolicyCommand.name,
      AttachThingPrincipalCommand.name,
      DescribeEndpointCommand.name,
    ]);
  });

  it('given the stack thing type and group, creates the thing with the type and adds it to the group', async () => {
    const { iot, requests } = fakeIot();

    await provisionAws('gw-01', { iot, policyName: 'p', outDir, thingTypeName: 'VppType', thingGroupName: 'VppGroup' });

    expect(requests().slice(0, 3)).toEqual([
      [CreateThingCommand.name, { thingName: 'gw-01', thingTypeName: 'VppType' }],
      [AddThingToThingGroupCommand.name, { thingGroupName: 'VppGroup', thingName: 'gw-01' }],
      [CreateKeysAndCertificateCommand.name, { setAsActive: true }],
    ]);
  });

  it("given the device's CSR, has AWS sign it and writes no private key: the key never leaves the device", async () => {
    const { iot, requests } = fakeIot();
    const csr = '-----BEGIN CERTIFICATE REQUEST-----\nCSR\n-----END CERTIFICATE REQUEST-----\n';

    const result = await provisionAws('ven-001', {
      iot,
      policyName: 'p',
      outDir,
      csr,
      thingTypeName: 'T',
      thingGroupName: 'G',
    });

    expect(requests()).toEqual([
      [CreateThingCommand.name, { thingName: 'ven-001', thingTypeName: 'T' }],
      [AddThingToThingGroupCommand.name, { thingGroupName: 'G', thingName: 'ven-001' }],
      [CreateCertificateFromCsrCommand.name, { certificateSigningRequest: csr, setAsActive: true }],
      [AttachPolicyCommand.name, { policyName: 'p', target: CERT_ARN }],
      [AttachThingPrincipalCommand.name, { thingName: 'ven-001', principal: CERT_ARN }],
      [DescribeEndpointCommand.name, { endpointType: 'iot:Data-ATS' }],
    ]);
    expect(result.keyFile).toBeUndefined();
    expect(readFileSync(result.certFile, 'utf8')).toBe(CERT_PEM);
    expect(existsSync(join(outDir, 'ven-001.private.key'))).toBe(false);
  });

  it('reads the policy, thing type and thing group from the file cdk deploy --outputs-file writes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'outputs-')), 'cdk-outputs.json');
    const vpp = {
      DevicePolicyName: 'Vpp-DevicePolicy',
      ThingTypeName: 'Vpp-Type',
      ThingGroupName: 'Vpp-Group',
      ApiUrl: 'x',
    };
    writeFileSync(file, JSON.stringify({ Vpp: vpp }));
    expect(await stackTargets(file)).toEqual({
      policyName: 'Vpp-DevicePolicy',
      thingTypeName: 'Vpp-Type',
      thingGroupName: 'Vpp-Group',
    });
    writeFileSync(file, JSON.stringify({ Vpp: vpp, VppStaging: {} }));
    await expect(stackTargets(file)).rejects.toThrow(/outputs of 2 stacks \(Vpp, VppStaging\): name one with --stack/);
    expect((await stackTargets(file, 'Vpp')).thingGroupName).toBe('Vpp-Group');
    await expect(stackTargets(file, 'Prod')).rejects.toThrow(/no outputs of the stack Prod/);
  });

  it('given an invalid thing name, refuses before calling AWS', async () => {
    const { iot, requests } = fakeIot();

    await expect(provisionAws('ven/001', { iot, policyName: 'p', outDir })).rejects.toThrow(
      /thingName "ven\/001" is invalid/,
    );
    await expect(provisionAws('x'.repeat(129), { iot, policyName: 'p', outDir })).rejects.toThrow(/is invalid/);
    expect(requests()).toEqual([]);
  });

  it('given a policy that cannot be attached, names the orphaned certificate and writes no files', async () => {
    const { iot, requests } = fakeIot({
      AttachPolicyCommand: () => {
        throw new UnauthorizedException({ message: 'not allowed', $metadata: {} });
      },
    });

    await expect(provisionAws('ven-001', { iot, policyName: 'p', outDir })).rejects.toThrow(
      /certificate abc123 was created but not attached \(not allowed\).*update-certificate --certificate-id abc123 --new-status INACTIVE/,
    );
    expect(requests().map(([name]) => name)).toEqual([
      CreateThingCommand.name,
      CreateKeysAndCertificateCommand.name,
      AttachPolicyCommand.name,
    ]);
    expect(existsSync(outDir)).toBe(false);
  });
});
