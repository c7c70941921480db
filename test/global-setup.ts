// Builds the dashboard once before any test file starts a local stack, so parallel files never race to build it; and
// gives the run one temporary folder (TMPDIR for every test process and what they start) removed at its end, so that
// the cloud assemblies, certificates and data folders tests make do not pile up in the system's /tmp. At the end, the
// IAM grants no local stack's calls used are reported (test/iam/unused-report.ts).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureWebBuild } from '../web/build.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensureWebBuild();
  const dir = await mkdtemp(join(tmpdir(), 'vpp-test-run-'));
  process.env.TMPDIR = dir;
  return async () => {
    await reportUnusedGrants(dir, await wholeGreenRun(project));
    await rm(dir, { recursive: true, force: true });
  };
}

/**
 * Printed, and written to iam-unused-grants.txt; the grants this run's calls used go into test/iam/used-grants.txt (all
 * of it rewritten after a whole green run, added to otherwise), which test/iam/unused-grants.test.ts holds the policies to.
 */
async function reportUnusedGrants(dir: string, whole: boolean): Promise<void> {
  const policiesFile = join(dir, 'vpp-iam-role-policies.json');
  if (!existsSync(policiesFile)) return;
  const report = await import('./iam/unused-report.js');
  const policies = JSON.parse(readFileSync(policiesFile, 'utf8'));
  const calls = report.runCalls(dir);
  const text = report.formatReport(
    calls,
    policies,
    report.unusedGrantsReport(calls, policies, report.loadJustifications()),
  );
  await writeFile(new URL('../iam-unused-grants.txt', import.meta.url), `${text}\n`);
  console.log(`\n${text.split('\n').slice(0, 40).join('\n')}\n(full report: iam-unused-grants.txt)`);
  if (calls.length === 0) return;
  const recorded = report.readUsedGrants();
  const next = report.refreshedUsedGrants(recorded, report.usedGrantLines(calls, policies), whole);
  if (next.join('\n') === [...recorded].sort().join('\n')) return;
  report.writeUsedGrants(next);
  console.log(
    `test/iam/used-grants.txt ${whole ? 'rewritten from this whole run' : 'added to'}: ${next.length} grants used (was ${recorded.length}); commit it`,
  );
}

/** Every test file of the project ran and none failed, with no test-name filter: what a run proves unused is true. */
async function wholeGreenRun(project: TestProject): Promise<boolean> {
  if (project.vitest.config.testNamePattern) return false;
  const { testFiles } = await project.globTestFiles();
  const ran = new Map(project.vitest.state.getTestModules().map((m) => [m.moduleId, m.state()]));
  return testFiles.every((f) => ran.get(f) === 'passed' || ran.get(f) === 'skipped');
}
