// `npm run provision -- <thingName> [--aws --policy <policyName>]`: issues (or re-uses) a device certificate.
// Locally from the `.vpp/` CA; with --aws through AWS IoT (CreateKeysAndCertificate, thing, policy attach).
// The last stdout line is JSON: {"thingName","certFile","keyFile","caFile","endpoint","port"}.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OPERATOR_CLIENT_PREFIX } from '../lambdas/core/policy.js';
import { THING_NAME } from '../lambdas/core/topics.js';
import { LocalCa, localThingNameProblem } from './local/certs.js';

const USAGE = 'usage: npm run provision -- <thingName> [--aws --policy <IoT policy name>] [--out <dir>]';
function refuse(message: string): never {
  console.error(message);
  console.error(USAGE);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: { aws: { type: 'boolean', default: false }, policy: { type: 'string' }, out: { type: 'string' } },
  });
} catch (err) {
  refuse((err as Error).message);
}
const { values, positionals } = args;
const thingName = positionals[0];
if (!thingName) refuse('a thing name is required');
if (positionals.length > 1) refuse(`one thing name at a time (got ${positionals.length})`);
if (!THING_NAME.test(thingName)) refuse(`thing name ${JSON.stringify(thingName)}: 1-128 characters of a-z A-Z 0-9 : _ -`);
if (thingName.startsWith(OPERATOR_CLIENT_PREFIX)) refuse(`thing name: may not start with ${OPERATOR_CLIENT_PREFIX} (the dashboard's client ids)`);

const dir = resolve(process.env.VPP_DIR ?? '.vpp');
let result;
if (values.aws) {
  const { IoTClient } = await import('@aws-sdk/client-iot');
  const { provisionAws } = await import('./provision-aws.js');
  const policyName = values.policy ?? process.env.VPP_DEVICE_POLICY;
  if (!policyName) {
    console.error('--policy <name> (or VPP_DEVICE_POLICY) is required with --aws: the stack output DevicePolicyName');
    process.exit(2);
  }
  result = await provisionAws(thingName, { iot: new IoTClient({}), policyName, outDir: resolve(values.out ?? join(dir, 'aws-certs')) });
} else {
  const problem = localThingNameProblem(thingName);
  if (problem) refuse(`${problem}; AWS IoT takes up to 128 with --aws`);
  const ca = new LocalCa(dir);
  await ca.ensure();
  const local = join(dir, 'local.json');
  const mqtt = existsSync(local)
    ? (JSON.parse(readFileSync(local, 'utf8')) as { mqtt: { host: string; port: number } }).mqtt
    : { host: '127.0.0.1', port: Number(process.env.VPP_MQTT_PORT ?? 8883) };
  result = { thingName, ...(await ca.device(thingName)), endpoint: mqtt.host, port: mqtt.port };
}
console.log(JSON.stringify(result));
