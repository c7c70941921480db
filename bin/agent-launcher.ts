// `node launcher.mjs <agent flags>`: runs `agent.mjs` from its own folder and keeps it running through updates.
// Exit RESTART_EXIT_CODE: an update was swapped in, start `agent.mjs` again. Any other exit while an update is pending
// (it crashed, or failed its health check): put the previous version back and start it, so it reports FAILED.
// Otherwise the launcher ends with the agent's code (the service manager decides what next). Signals go to the agent.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_FILE, readState, RESTART_EXIT_CODE, rollBack } from '../device/update/install-dir.js';

const dir = process.env.AGENT_INSTALL_DIR || dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
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
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail.push(...chunk.toString().split('\n').filter(Boolean));
    stderrTail.splice(0, Math.max(0, stderrTail.length - 50));
  });
  child.on('exit', (code, signal) => {
    if (code === RESTART_EXIT_CODE && !stopping) return run();
    const pending = readState(dir)?.phase === 'pending';
    if (pending && !stopping) {
      // an uncaught error's own line (`Error: …`), not its stack
      const cause = stderrTail.findLast((l) => /^[\w.]*Error\b/.test(l)) ?? stderrTail.at(-1);
      const why = `exited with ${signal ?? `code ${code}`} before passing its health check${cause ? `: ${cause}` : ''}`;
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
