// Builds the dashboard once before any test file starts a local stack, so parallel files never race to build it; and
// gives the run one temporary folder (TMPDIR for every test process and what they start) removed at its end, so that
// the cloud assemblies, certificates and data folders tests make do not pile up in the system's /tmp. At the end, the
// IAM grants no local stack's calls used are reported (test/iam/unused-report.ts).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWebBuild } from '../web/build.js';

export default async function setup(): Promise<() => Promise<void>> {
  await ensureWebBuild();
  const dir = await mkdtemp(join(tmpdir(), 'vpp-test-run-'));
  process.env.TMPDIR = dir;
  return async () => {
    await reportUnusedGrants(dir);
    await rm(dir, { recursive: true, force: true });
  };
}

/** Printed, and written to iam-unused-grants.txt; not a failure: a run of a few files leaves most grants unused. */
async function reportUnusedGrants(dir: string): Promise<void> {
  const policiesFile = join(dir, 'vpp-iam-role-policies.json');
  if (!existsSync(policiesFile)) return;
  const { formatReport, loadJustifications, runCalls, unusedGrantsReport } = await import('./iam/unused-report.js');
  const policies = JSON.parse(readFileSync(policiesFile, 'utf8'));
  const calls = runCalls(dir);
  const text = formatReport(calls, policies, unusedGrantsReport(calls, policies, loadJustifications()));
  await writeFile(new URL('../iam-unused-grants.txt', import.meta.url), `${text}\n`);
  console.log(`\n${text.split('\n').slice(0, 40).join('\n')}\n(full report: iam-unused-grants.txt)`);
}
