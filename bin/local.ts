// `npm start`: the whole platform on this machine. Writes `.vpp/local.json` once ready.
import './local/env-defaults.js';
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startLocalStack } from './local/stack.js';

const dir = resolve(process.env.VPP_DIR ?? '.vpp');
const port = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`);
  return value;
};

const started = Date.now();
const stack = await startLocalStack({
  dir,
  host: process.env.VPP_HOST ?? '127.0.0.1',
  httpPort: port('VPP_HTTP_PORT', 3000),
  mqttPort: port('VPP_MQTT_PORT', 8883),
  fleet: process.env.VPP_FLEET !== '0',
  log: (line) => console.log(line),
});
// written whole, then renamed: whoever waits for the file never reads half of it
await writeFile(join(dir, 'local.json.tmp'), `${JSON.stringify(stack.config, null, 2)}\n`, { mode: 0o600 });
await rename(join(dir, 'local.json.tmp'), join(dir, 'local.json'));
console.log(`VPP local stack ready in ${Date.now() - started} ms
  API and dashboard  ${stack.config.apiUrl}   (Authorization: Bearer <token from ${join(dir, 'local.json')}>)
  MQTT (mutual TLS)  ${stack.config.mqtt.host}:${stack.config.mqtt.port}   CA ${stack.config.mqtt.caFile}
  MQTT over WS       ${stack.config.wsUrl}
  Device certs       npm run provision -- <thingName>`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stack.close().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
