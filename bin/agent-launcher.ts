// `node launcher.mjs <agent flags>`: runs `agent.mjs` from its own folder and keeps it running through updates.
// Exit RESTART_EXIT_CODE: an update was swapped in, start `agent.mjs` again. Any other exit while an update is pending
// (it crashed, or failed its health check): put the previous version back and start it, so it reports FAILED.
// A pending version that neither passes nor fails its health check in time (hung) is stopped and rolled back too.
// Otherwise the launcher ends with the agent's code (the service manager decides what next). Signals go to the agent.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_FILE, readState, RESTART_EXIT_CODE, rollBack } from '../device/update/install-dir.js';

const dir = process.env.AGENT_INSTALL_DIR || dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
/** The agent's own health timeout (its flag or variable), plus a grace for it to report and exit by itself. */
const flag = args.findIndex((a) => a === '--health-timeout-sec' || a.startsWith('--health-timeout-sec='));
const healthTimeoutSec = Number(
  (flag < 0 ? undefined : (args[flag]!.split('=')[1] ?? args[flag + 1])) ?? process.env.HEALTH_TIMEOUT_SEC ?? 60,
);
const HANG_MS = (Number.isFinite(healthTimeoutSec) && healthTimeoutSec > 0 ? healthTimeoutSec : 60) * 1000 + 5_000;
let child: ReturnType<typeof spawn> | undefined;
let stopping = false;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping = true;
    child?.kill(signal);
  });
}

function run(): void {
  const stderrTail: string[] = [];
  child = spawn(process.execPath, [join(dir, AGENT_FILE), ...args], {
    env: { ...process.env, AGENT_INSTALL_DIR: dir },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let hung = false;
  const watchdog =
    readState(dir)?.phase === 'pending'
      ? setTimeout(() => {
          if (readState(dir)?.phase !== 'pending') return;
          hung = true;
          child?.kill('SIGKILL');
        }, HANG_MS)
      : undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail.push(...chunk.toString().split('\n').filter(Boolean));
    stderrTail.splice(0, Math.max(0, stderrTail.length - 50));
  });
  child.on('exit', (code, signal) => {
    clearTimeout(watchdog);
    if (code === RESTART_EXIT_CODE && !stopping) return run();
    const pending = readState(dir)?.phase === 'pending';
    if (pending && !stopping) {
      // an uncaught error's own line (`Error: …`), not its stack
      const cause = stderrTail.findLast((l) => /^[\w.]*Error\b/.test(l)) ?? stderrTail.at(-1);
      const why = hung
        ? `did not pass its health check within ${HANG_MS / 1000} s: stopped`
        : `exited with ${signal ?? `code ${code}`} before passing its health check${cause ? `: ${cause}` : ''}`;
      const state = rollBack(dir, why.slice(0, 1000));
      if (state) {
        process.stderr.write(`launcher: version ${state.version} ${why}; rolled back to ${state.from}\n`);
        return run();
      }
    }
    process.exit(code ?? 1);
  });
}

run();
