// `npm run provision -- <thingName> [--csr <file>] [--aws --outputs <cdk outputs file> | --policy <policyName>]`:
// issues (or re-uses) a device certificate. Locally from the `.vpp/` CA; with --aws through AWS IoT (the thing in the
// stack's thing type and group, a certificate, the device policy attached). With --csr the device's own CSR is signed
// and no private key is made here. The last stdout line is JSON: {"thingName","certFile","keyFile"?,"caFile","endpoint","port"}.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLAIM_CLIENT_PREFIX, OPERATOR_CLIENT_PREFIX } from '../lambdas/core/contracts/policy.js';
import { THING_NAME } from '../lambdas/core/contracts/topics.js';
import { LocalCa, localThingNameProblem } from './local/iot/certs.js';
import type { LocalConfig } from './local/stack.js';
import type { DeviceIdentities } from '../lambdas/core/fleet/identities.js';
import { commandLine, output, refuse } from './cli.js';
import { stackTargets } from './provision-aws.js';

const USAGE =
  'usage: npm run provision -- <thingName> [--csr <device.csr> | --revoke | --allow] [--out <dir>]\n' +
  "       npm run provision -- --claim   (the local stack's claim certificate)\n" +
  '       npm run provision -- --deactivate <certificateId> [--aws --outputs <file>]   (the old certificate after a rotation)\n' +
  '       [--aws (--outputs <cdk-outputs.json> [--stack <name>] | --policy <name> [--thing-type <name>] [--thing-group <name>])] [--json]';
const { values, positionals } = commandLine(USAGE, {
  aws: { type: 'boolean', default: false },
  policy: { type: 'string' },
  outputs: { type: 'string' },
  stack: { type: 'string' },
  'thing-type': { type: 'string' },
  'thing-group': { type: 'string' },
  csr: { type: 'string' },
  revoke: { type: 'boolean', default: false },
  deactivate: { type: 'string' },
  allow: { type: 'boolean', default: false },
  claim: { type: 'boolean', default: false },
  out: { type: 'string' },
  json: { type: 'boolean' },
});
const dir = resolve(process.env.VPP_DIR ?? '.vpp');
if (values.claim) {
  // the local stack's claim certificate (in AWS: aws iot create-keys-and-certificate + the ClaimPolicyName output)
  if (values.aws)
    refuse('--claim is for the local stack; in AWS create the claim certificate with the AWS CLI (README)');
  const ca = new LocalCa(dir);
  await ca.ensure();
  output({ ...(await ca.claim()), ...localMqtt() });
  process.exit(0);
}
if (values.deactivate !== undefined) {
  const certificateId = values.deactivate;
  if (!/^[0-9a-fA-F]{64}$/.test(certificateId))
    refuse(`--deactivate ${certificateId}: a certificate id is 64 hex digits`);
  await (await identities()).deactivate(certificateId);
  output({ certificateId, status: 'INACTIVE' });
  process.exit(0);
}
const thingName = positionals[0];
if (!thingName) refuse('a thing name is required');
if (positionals.length > 1) refuse(`one thing name at a time (got ${positionals.length})`);
if (!THING_NAME.test(thingName))
  refuse(`thing name ${JSON.stringify(thingName)}: 1-128 characters of a-z A-Z 0-9 : _ -`);
if (thingName.startsWith(OPERATOR_CLIENT_PREFIX))
  refuse(`thing name: may not start with ${OPERATOR_CLIENT_PREFIX} (the dashboard's client ids)`);
if (thingName.startsWith(CLAIM_CLIENT_PREFIX))
  refuse(`thing name: may not start with ${CLAIM_CLIENT_PREFIX} (devices provisioning by claim)`);

if (values.allow) {
  await allow(thingName);
  output({ serial: thingName, allowed: true });
  process.exit(0);
}
if (values.revoke) {
  output(await revoke(thingName));
  process.exit(0);
}
const csr = values.csr === undefined ? undefined : readCsr(values.csr);
let result;
if (values.aws) {
  const { IoTClient } = await import('@aws-sdk/client-iot');
  const { provisionAws } = await import('./provision-aws.js');
  const outputs = values.outputs ?? process.env.VPP_STACK_OUTPUTS;
  const fromStack = outputs ? await stackTargets(outputs, values.stack) : {};
  const policyName = values.policy ?? process.env.VPP_DEVICE_POLICY ?? fromStack.policyName;
  if (!policyName)
    refuse(
      '--aws needs the stack outputs: --outputs <file of cdk deploy --outputs-file> (or --policy <DevicePolicyName>)',
    );
  result = await provisionAws(thingName, {
    iot: new IoTClient({}),
    policyName,
    thingTypeName: values['thing-type'] ?? fromStack.thingTypeName,
    thingGroupName: values['thing-group'] ?? fromStack.thingGroupName,
    csr,
    outDir: resolve(values.out ?? join(dir, 'aws-certs')),
  });
} else {
  const problem = localThingNameProblem(thingName);
  if (problem) refuse(`${problem}; AWS IoT takes up to 128 with --aws`);
  const ca = new LocalCa(dir);
  await ca.ensure();
  const issued = csr === undefined ? await ca.device(thingName) : await ca.deviceFromCsr(thingName, csr);
  result = { thingName, ...issued, ...localMqtt() };
}
output(result);

/** Where the local broker listens: `.vpp/local.json` of a running (or last) `npm start`. */
function localMqtt(): { endpoint: string; port: number } {
  const local = join(dir, 'local.json');
  const mqtt = existsSync(local)
    ? (JSON.parse(readFileSync(local, 'utf8')) as { mqtt: { host: string; port: number } }).mqtt
    : { host: '127.0.0.1', port: Number(process.env.VPP_MQTT_PORT ?? 8883) };
  return { endpoint: mqtt.host, port: mqtt.port };
}

/** Puts the serial on the fleet provisioning allow-list: the local stack's table (it must be running), or the stack's. */
async function allow(serial: string) {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { documentClient } = await import('../lambdas/core/adapters.js');
  let client;
  let table;
  if (values.aws) {
    const outputs = values.outputs ?? process.env.VPP_STACK_OUTPUTS;
    if (!outputs) refuse('--allow --aws needs the stack outputs: --outputs <file of cdk deploy --outputs-file>');
    table = (await stackTargets(outputs, values.stack)).allowListTableName;
    client = new DynamoDBClient({});
  } else {
    const local = join(dir, 'local.json');
    if (!existsSync(local)) refuse("--allow writes the running local stack's allow-list: start it first (npm start)");
    const config = JSON.parse(readFileSync(local, 'utf8')) as LocalConfig;
    table = config.provisioning.allowListTable;
    client = new DynamoDBClient({
      endpoint: config.provisioning.dynamodbEndpoint,
      region: config.credentials.region,
      credentials: config.credentials,
    });
  }
  if (!table) refuse('the stack outputs have no AllowListTableName');
  await documentClient(client).send(new PutCommand({ TableName: table, Item: { serial } }));
}

/** Every certificate of the thing revoked (AWS IoT, or the local registry, which a running local stack enforces at once). */
async function revoke(thing: string) {
  return (await identities()).revoke(thing);
}

/** AWS IoT's identities with --aws, else the local registry's (a running local stack enforces its changes at once). */
async function identities(): Promise<DeviceIdentities> {
  if (!values.aws) {
    const { LocalDeviceIdentities } = await import('./local/iot/identities-local.js');
    return new LocalDeviceIdentities(new LocalCa(dir).registry);
  }
  const { IoTClient } = await import('@aws-sdk/client-iot');
  const { IotDeviceIdentities } = await import('../lambdas/core/fleet/identities.js');
  const outputs = values.outputs ?? process.env.VPP_STACK_OUTPUTS;
  const policyName =
    values.policy ??
    process.env.VPP_DEVICE_POLICY ??
    (outputs ? (await stackTargets(outputs, values.stack)).policyName : undefined);
  if (!policyName)
    refuse(
      '--aws needs the stack outputs: --outputs <file of cdk deploy --outputs-file> (or --policy <DevicePolicyName>)',
    );
  return new IotDeviceIdentities(policyName, new IoTClient({}));
}

function readCsr(file: string): string {
  let pem;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    refuse(`--csr ${file}: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE REQUEST-----'))
    refuse(`--csr ${file}: not a PEM certificate signing request`);
  return pem;
}
