// `npm run agent -- --mode ven|gateway|winter-river ...`: the device agent for a real VEN or site gateway.
import { startAgent } from '../device/agent.js';
import { loadConfig, USAGE } from '../device/config.js';
import { DeviceSetupError } from '../device/create-device.js';
import { jsonLog } from '../device/log.js';
import { fail, help, refuse, runAsCommand } from './cli.js';

runAsCommand();
const result = loadConfig(process.argv.slice(2));
if (!result.ok) {
  if (result.help) help(USAGE);
  refuse(`Invalid agent configuration: ${result.errors.join('; ')}`, USAGE);
}

const config = result.config;
const log = jsonLog(config.logLevel, { thingName: config.thingName, mode: config.mode });

try {
  const agent = await startAgent(config, { log });
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      log.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    log.info('shutting down', { signal });
    agent.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  if (error instanceof DeviceSetupError) {
    refuse(`Invalid agent configuration: ${error.message}`, USAGE);
  }
  fail(error);
}
