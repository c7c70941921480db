// ESLint with typescript-eslint over the whole project (eslint.config.js): clean, so a finding in a change fails here.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('the linter', () => {
  it('finds nothing in the project', async () => {
    const eslint = path.join(root, 'node_modules/eslint/bin/eslint.js');
    const report = await run(process.execPath, [eslint, '.', '--format', 'json'], { cwd: root, maxBuffer: 256 * 1024 * 1024 }).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string }) => error.stdout ?? '[]',
    );
    const findings = (JSON.parse(report) as { filePath: string; messages: { ruleId: string | null; line: number; message: string }[] }[]).flatMap((f) =>
      f.messages.map((m) => `${path.relative(root, f.filePath)}:${m.line} ${m.ruleId ?? ''} ${m.message}`),
    );
    expect(findings).toEqual([]);
  }, 240_000);
});
