// Builds the dashboard once before any test file starts a local stack, so parallel files never race to build it; and
// gives the run one temporary folder (TMPDIR for every test process and what they start) removed at its end, so that
// the cloud assemblies, certificates and data folders tests make do not pile up in the system's /tmp.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWebBuild } from '../web/build.js';

export default async function setup(): Promise<() => Promise<void>> {
  await ensureWebBuild();
  const dir = await mkdtemp(join(tmpdir(), 'vpp-test-run-'));
  process.env.TMPDIR = dir;
  return () => rm(dir, { recursive: true, force: true });
}
