// `npm run provision` refuses what it cannot issue with a reason and the usage, exit code 2, and leaves no file behind.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCa } from '../../bin/local/iot/certs.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-prov-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const provision = (...args: string[]) =>
  run('npx', ['tsx', 'bin/provision.ts', ...args], { env: { ...process.env, VPP_DIR: dir } }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
const certFiles = async () => (await readdir(join(dir, 'certs')).catch(() => [] as string[])).sort();

describe('npm run provision', () => {
  it.each([
    [['x'.repeat(100)], /100 characters: the local CA puts it in the certificate's common name, at most 64/],
    [['-x'], /Unknown option '-x'/],
    [[], /a thing name is required/],
    [['ven 1'], /1-128 characters/],
    [['operator-1'], /may not start with operator-/],
    [['ven-1', 'ven-2'], /one thing name at a time/],
  ])('refuses %j with a reason and the usage, and writes no file', async (args, reason) => {
    const before = await certFiles();
    const result = await provision(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain('usage: npm run provision');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await certFiles()).toEqual(before);
  });

  it('gives names that differ only by case their own files, distinct on a case-insensitive disk too', async () => {
    const upper = JSON.parse((await provision('Ven-A')).stdout.trim().split('\n').at(-1)!);
    const lower = JSON.parse((await provision('ven-a')).stdout.trim().split('\n').at(-1)!);
    expect(upper.certFile.toLowerCase()).not.toBe(lower.certFile.toLowerCase());
    expect(lower.certFile).toBe(join(dir, 'certs', 'ven-a.cert.pem'));
    expect(await certFiles()).toHaveLength(4);
  });
});

describe('the local CA', () => {
  it('leaves no key behind when signing fails', async () => {
    const caDir = await mkdtemp(join(tmpdir(), 'vpp-ca-'));
    try {
      const ca = new LocalCa(caDir);
      await ca.ensure();
      await writeFile(join(caDir, 'ca', 'ca.key'), 'not a key');
      await expect(ca.device('ven-orphan')).rejects.toThrow(/openssl|Command failed/i);
      expect(await readdir(join(caDir, 'certs'))).toEqual([]);
    } finally {
      await rm(caDir, { recursive: true, force: true });
    }
  });
});
