// The code's style is the tools', not review's: ESLint with typescript-eslint (eslint.config.js) finds nothing and
// Prettier (.prettierrc.json) would change nothing. Both run over the files git tracks, so a file another test writes
// into the tree for a moment (the import rule's probe) is never half-read.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

async function trackedCode(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '--', '*.ts', '*.tsx', '*.js', '*.cjs', '*.mjs'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.split('\0').filter(Boolean);
}

/** Runs a tool's bin with node; resolves with its stdout whether it exited 0 or not (findings exit 1). */
async function tool(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [path.join(root, 'node_modules', bin), ...args], {
    cwd: root,
    maxBuffer: 256 * 1024 * 1024,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? 1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

describe('the code style', () => {
  it('ESLint finds nothing in the project', async () => {
    const files = await trackedCode();
    expect(files.length).toBeGreaterThan(300);
    const { code, stdout, stderr } = await tool('eslint/bin/eslint.js', [
      '--format',
      'json',
      '--no-warn-ignored',
      '--',
      ...files,
    ]);
    expect(stderr).toBe('');
    const findings = (
      JSON.parse(stdout) as { filePath: string; messages: { ruleId: string | null; line: number; message: string }[] }[]
    ).flatMap((f) =>
      f.messages.map((m) => `${path.relative(root, f.filePath)}:${m.line} ${m.ruleId ?? ''} ${m.message}`),
    );
    expect(findings).toEqual([]);
    expect(code).toBe(0);
  }, 240_000);

  it('Prettier would change no file', async () => {
    const files = await trackedCode();
    const { code, stdout, stderr } = await tool('prettier/bin/prettier.cjs', ['--list-different', '--', ...files]);
    expect({ unformatted: stdout.split('\n').filter(Boolean), stderr }).toEqual({ unformatted: [], stderr: '' });
    expect(code).toBe(0);
  }, 240_000);
});
