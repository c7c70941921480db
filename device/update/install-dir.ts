// The agent's install folder under its launcher (bin/agent-launcher.ts), shared by the launcher and the agent:
// `agent.mjs` runs; an update stages `agent.next.mjs`, keeps the running file as `agent.previous.mjs` and records
// itself in `update.json` until the new version has passed its health check, or the launcher has rolled it back.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const AGENT_FILE = 'agent.mjs';
const NEXT_FILE = 'agent.next.mjs';
export const PREVIOUS_FILE = 'agent.previous.mjs';
export const FAILED_FILE = 'agent.failed.mjs';
const STATE_FILE = 'update.json';

/** The agent exits with this code to be started again from `agent.mjs` (the update is swapped in). */
export const RESTART_EXIT_CODE = 75;

export interface UpdateRecord {
  readonly jobId: string;
  readonly version: string;
  /** The version it replaces. */
  readonly from: string;
}

export type UpdateState =
  | (UpdateRecord & { readonly phase: 'pending' })
  | (UpdateRecord & { readonly phase: 'rolled-back'; readonly reason: string });

export function readState(dir: string): UpdateState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as UpdateState;
  } catch {
    return undefined;
  }
}

/** Whole or not at all: written beside, then renamed over. */
function writeState(dir: string, state: UpdateState): void {
  const tmp = join(dir, `${STATE_FILE}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(state)}\n`, { flush: true });
  renameSync(tmp, join(dir, STATE_FILE));
}

export function clearState(dir: string): void {
  rmSync(join(dir, STATE_FILE), { force: true });
}

/**
 * Puts a verified new version in place: staged beside, recorded as pending, then the running file becomes the
 * previous one and the staged file the current. A crash between the steps leaves a pending record the launcher
 * rolls back from.
 */
export function swapIn(dir: string, bytes: Buffer, update: UpdateRecord): void {
  writeFileSync(join(dir, NEXT_FILE), bytes, { flush: true });
  writeState(dir, { ...update, phase: 'pending' });
  renameSync(join(dir, AGENT_FILE), join(dir, PREVIOUS_FILE));
  renameSync(join(dir, NEXT_FILE), join(dir, AGENT_FILE));
}

/** The pending version failed: the previous file runs again, the failed one is kept for inspection. */
export function rollBack(dir: string, reason: string): UpdateState | undefined {
  const state = readState(dir);
  if (state?.phase !== 'pending' || !existsSync(join(dir, PREVIOUS_FILE))) return undefined;
  if (existsSync(join(dir, AGENT_FILE))) renameSync(join(dir, AGENT_FILE), join(dir, FAILED_FILE));
  renameSync(join(dir, PREVIOUS_FILE), join(dir, AGENT_FILE));
  const rolledBack: UpdateState = {
    jobId: state.jobId,
    version: state.version,
    from: state.from,
    phase: 'rolled-back',
    reason,
  };
  writeState(dir, rolledBack);
  return rolledBack;
}
