// Issues a device identity in AWS IoT: the thing (of the stack's thing type, in its thing group), a certificate — from
// the device's own CSR, so its private key never leaves it, or else a new key pair (AWS never returns the key again) —
// the stack's device policy on the certificate and the certificate on the thing. Called by `bin/provision.ts --aws`.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DescribeEndpointCommand,
  ResourceAlreadyExistsException,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { THING_NAME } from '../lambdas/core/contracts/topics.js';

/** MQTT over TLS with X.509 client certificates. */
export const MQTT_PORT = 8883;

/** Amazon Root CA 1 (RSA 2048), the trust anchor of every `iot:Data-ATS` endpoint; valid until 2038-01-17. */
export const AMAZON_ROOT_CA_1 = `-----BEGIN CERTIFICATE-----
MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF
ADA5MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRkwFwYDVQQDExBBbWF6
b24gUm9vdCBDQSAxMB4XDTE1MDUyNjAwMDAwMFoXDTM4MDExNzAwMDAwMFowOTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoTBkFtYXpvbjEZMBcGA1UEAxMQQW1hem9uIFJv
b3QgQ0EgMTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALJ4gHHKeNXj
ca9HgFB0fW7Y14h29Jlo91ghYPl0hAEvrAIthtOgQ3pOsqTQNroBvo3bSMgHFzZM
9O6II8c+6zf1tRn4SWiw3te5djgdYZ6k/oI2peVKVuRF4fn9tBb6dNqcmzU5L/qw
IFAGbHrQgLKm+a/sRxmPUDgH3KKHOVj4utWp+UhnMJbulHheb4mjUcAwhmahRWa6
VOujw5H5SNz/0egwLX0tdHA114gk957EWW67c4cX8jJGKLhD+rcdqsq08p8kDi1L
93FcXmn/6pUCyziKrlA4b9v7LWIbxcceVOF34GfID5yHI9Y/QCB/IIDEgEw+OyQm
jgSubJrIqg0CAwEAAaNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMC
AYYwHQYDVR0OBBYEFIQYzIU07LwMlJQuCFmcx7IQTgoIMA0GCSqGSIb3DQEBCwUA
A4IBAQCY8jdaQZChGsV2USggNiMOruYou6r4lK5IpDB/G/wkjUu0yKGX9rbxenDI
U5PMCCjjmCXPI6T53iHTfIUJrU6adTrCC2qJeHZERxhlbI1Bjjt/msv0tadQ1wUs
N+gDS63pYaACbvXy8MWy7Vu33PqUXHeeE6V/Uq2V8viTO96LXFvKWlJbYK8U90vv
o/ufQJVtMVT8QtPHRh8jrdkPSHCa2XV4cdFyQzR1bldZwgJcJmApzyMZFo6IQ6XU
5MsI+yMRQ+hDKXJioaldXgjUkK642M4UwtBV8ob2xJNDd2ZhwLnoQdeXeGADbkpy
rqXRfboQnoZsG4q5WTP468SQvvG5
-----END CERTIFICATE-----
`;

export interface ProvisionAwsOptions {
  readonly iot: IoTClient;
  /** The stack output `DevicePolicyName`. */
  readonly policyName: string;
  /** Where the certificate, private key and CA are written. */
  readonly outDir: string;
  /** The stack output `ThingTypeName`, given to a thing this call creates. */
  readonly thingTypeName?: string;
  /** The stack output `ThingGroupName`: the thing is added to it. */
  readonly thingGroupName?: string;
  /** The device's certificate signing request (PEM): AWS signs it and no private key is made or written here. */
  readonly csr?: string;
}

/** The stack outputs provisioning needs. */
export interface StackTargets {
  readonly policyName?: string;
  readonly thingTypeName?: string;
  readonly thingGroupName?: string;
  readonly allowListTableName?: string;
}

/**
 * The provisioning targets from the file `cdk deploy --outputs-file <file>` writes (`{"<stackName>": {"DevicePolicyName":
 * …, "ThingTypeName": …, "ThingGroupName": …}}`): the stack named, or the only one in the file.
 */
export async function stackTargets(outputsFile: string, stackName?: string): Promise<StackTargets> {
  const outputs = JSON.parse(await readFile(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
  const stacks = Object.keys(outputs);
  const name = stackName ?? (stacks.length === 1 ? stacks[0] : undefined);
  if (!name)
    throw new Error(
      `${outputsFile} holds the outputs of ${stacks.length} stacks (${stacks.join(', ')}): name one with --stack`,
    );
  const out = outputs[name];
  if (!out)
    throw new Error(`${outputsFile} has no outputs of the stack ${name} (it has ${stacks.join(', ') || 'none'})`);
  return {
    policyName: out.DevicePolicyName,
    thingTypeName: out.ThingTypeName,
    thingGroupName: out.ThingGroupName,
    allowListTableName: out.AllowListTableName,
  };
}

export interface ProvisionedDevice {
  readonly thingName: string;
  /** AWS IoT's id of the new certificate (deactivate the old one with it after a rotation). */
  readonly certificateId?: string;
  readonly certFile: string;
  /** Absent when the device made its own key (CSR). */
  readonly keyFile?: string;
  readonly caFile: string;
  readonly endpoint: string;
  readonly port: number;
}

export async function provisionAws(thingName: string, opts: ProvisionAwsOptions): Promise<ProvisionedDevice> {
  if (!THING_NAME.test(thingName)) {
    throw new Error(`thingName "${thingName}" is invalid: 1-128 characters of a-z A-Z 0-9 : _ -`);
  }
  if (!opts.policyName) throw new Error('policyName is required: the stack output DevicePolicyName');
  const { iot } = opts;

  await createThing(iot, thingName, opts.thingTypeName);
  if (opts.thingGroupName) {
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: opts.thingGroupName, thingName }));
  }
  const { certificateArn, certificateId, certificatePem, privateKey } = await createCertificate(iot, opts.csr);
  try {
    await iot.send(new AttachPolicyCommand({ policyName: opts.policyName, target: certificateArn }));
    await iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificateArn }));
  } catch (err) {
    throw new Error(
      `certificate ${certificateId} was created but not attached (${(err as Error).message}); ` +
        `deactivate it: aws iot update-certificate --certificate-id ${certificateId} --new-status INACTIVE`,
      { cause: err },
    );
  }
  const { endpointAddress } = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
  if (!endpointAddress) throw new Error('DescribeEndpoint returned no iot:Data-ATS endpoint');

  const files = await writeIdentity(opts.outDir, thingName, certificatePem, privateKey);
  return { thingName, ...(certificateId && { certificateId }), ...files, endpoint: endpointAddress, port: MQTT_PORT };
}

async function createCertificate(iot: IoTClient, csr: string | undefined) {
  if (csr !== undefined) {
    const cert = await iot.send(
      new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr, setAsActive: true }),
    );
    const { certificateArn, certificateId, certificatePem } = cert;
    if (!certificateArn || !certificatePem) throw new Error('CreateCertificateFromCsr returned no certificate');
    return { certificateArn, certificateId, certificatePem, privateKey: undefined };
  }
  const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  const { certificateArn, certificateId, certificatePem } = cert;
  const privateKey = cert.keyPair?.PrivateKey;
  if (!certificateArn || !certificatePem || !privateKey) {
    throw new Error('CreateKeysAndCertificate returned no certificate or key');
  }
  return { certificateArn, certificateId, certificatePem, privateKey };
}

/** CreateThing is idempotent for an identical thing; one that exists with other settings is kept as it is. */
async function createThing(iot: IoTClient, thingName: string, thingTypeName?: string): Promise<void> {
  try {
    await iot.send(new CreateThingCommand({ thingName, ...(thingTypeName && { thingTypeName }) }));
  } catch (err) {
    if (!(err instanceof ResourceAlreadyExistsException)) throw err;
  }
}

/** Writes the certificate and CA, and the private key when AWS made it (with a CSR the key stays with the device). */
async function writeIdentity(
  outDir: string,
  thingName: string,
  certificatePem: string,
  privateKey: string | undefined,
) {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const certFile = join(outDir, `${thingName}.cert.pem`);
  const keyFile = privateKey === undefined ? undefined : join(outDir, `${thingName}.private.key`);
  const caFile = join(outDir, 'AmazonRootCA1.pem');
  if (keyFile) {
    await writeFile(keyFile, privateKey!, { mode: 0o600 });
    await chmod(keyFile, 0o600); // writeFile's mode applies only to a new file
  }
  await writeFile(certFile, certificatePem);
  await writeFile(caFile, AMAZON_ROOT_CA_1);
  return { certFile, ...(keyFile && { keyFile }), caFile };
}
