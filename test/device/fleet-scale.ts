// A load check, not a test: N simulated VENs in one process against the project's broker.
// Run: npx tsx test/device/fleet-scale.ts 1000   (certificate issuance by openssl dominates the set-up time)
import { join } from 'node:path';
import { startFleet } from '../../device/fleet.js';
import { memoryLog } from '../../device/log.js';
import { startTestBroker, tempDir } from './helpers.js';

const count = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 30);
const dir = await tempDir('vpp-fleet-scale-');
const broker = await startTestBroker(dir.path);
try {
  let t = Date.now();
  const devices = [];
  for (let i = 0; i < count; i += 50) {
    const names = Array.from({ length: Math.min(50, count - i) }, (_, j) => `ven-${String(i + j).padStart(5, '0')}`);
    devices.push(
      ...(await Promise.all(
        names.map(async (thingName) => ({ mode: 'ven' as const, thingName, ...(await broker.issue(thingName)) })),
      )),
    );
  }
  console.log(`issued ${count} certificates in ${Date.now() - t} ms`);
  const log = memoryLog();
  t = Date.now();
  const fleet = await startFleet({
    host: broker.host,
    port: broker.port,
    caFile: broker.caFile,
    dataDir: join(dir.path, 'fleet'),
    devices,
    log,
    connectConcurrency: 32,
  });
  console.log(
    `started in ${Date.now() - t} ms, connected ${fleet.connected}/${count}, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
  );
  const before = broker.published.length;
  const cpu = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(cpu);
  const published = broker.published.length - before;
  console.log(
    `${seconds} s: ${published} publishes (${Math.round(published / seconds)}/s), ` +
      `CPU ${Math.round(((used.user + used.system) / 1e6 / seconds) * 100)}% of one core (broker included), rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
  );
  console.log('totals', fleet.status().totals);
  t = Date.now();
  await fleet.stop();
  console.log(
    `stopped in ${Date.now() - t} ms; warnings ${log.entries.filter((e) => e.level === 'warn').length}, errors ${log.entries.filter((e) => e.level === 'error').length}`,
  );
} finally {
  await broker.close();
  await dir.remove();
}
