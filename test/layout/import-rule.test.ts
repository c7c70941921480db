// The import rule (.dependency-cruiser.cjs): lambdas/core's capability folders import only the folders below them,
// contracts import nothing of ours, the dashboard and the device agent run only the contracts' code, no cycles.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const cruise = (...paths: string[]) =>
  run(
    process.execPath,
    [
      path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'json',
      ...paths,
    ],
    {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    },
  ).then(
    ({ stdout }) =>
      JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } },
    (error: { stdout?: string }) =>
      JSON.parse(error.stdout ?? '{}') as {
        summary: { violations: { rule: { name: string }; from: string; to: string }[] };
      },
  );

describe('the import rule', () => {
  it('holds over the Lambdas, the device agent, the dashboard, the CDK app and the local stack', async () => {
    const { summary } = await cruise('lambdas', 'device', 'web/src', 'lib', 'bin');
    expect(summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 120_000);

  it('names an import that runs back up (a contract importing a capability)', async () => {
    const dir = mkdtempSync(path.join(root, 'lambdas/core/contracts/.probe-'));
    try {
      writeFileSync(
        path.join(dir, 'upward.ts'),
        "import { mapLimited } from '../../common/map-limited.js';\nexport const probe = mapLimited;\n",
      );
      const { summary } = await cruise(path.relative(root, dir));
      expect(summary.violations.map((v) => v.rule.name)).toContain('contracts-import-no-code-of-ours');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
