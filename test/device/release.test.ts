// `npm run release:agent`: one bundled file run by plain node, described by release.json (version, sha256, signature).
// Running it against the broker is test/e2e/agent-update.test.ts.
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { builtinModules } from 'node:module';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseAgent, type Release } from '../../bin/release-agent.js';
import { tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

describe('given a signed release of the agent', () => {
  const keys = generateKeyPairSync('ed25519');
  let out: Awaited<ReturnType<typeof tempDir>>;
  let release: Release;

  beforeAll(async () => {
    out = await tempDir('vpp-release-');
    release = await releaseAgent({
      version: '2.3.4',
      outDir: out.path,
      signingKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    // as on a device: aws-crt (and what it needs) installed beside the file, nothing else of the project
    await mkdir(join(out.path, 'node_modules'));
    await symlink(join(ROOT, 'node_modules', 'aws-crt'), join(out.path, 'node_modules', 'aws-crt'));
  }, 60_000);
  afterAll(() => out?.remove());

  it("then release.json names the version, the file's sha256 and its Ed25519 signature by the release key", async () => {
    const bytes = await readFile(join(out.path, 'agent.mjs'));
    expect(JSON.parse(await readFile(join(out.path, 'release.json'), 'utf8'))).toEqual(release);
    expect(release.version).toBe('2.3.4');
    expect(release.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(verify(null, bytes, keys.publicKey, Buffer.from(release.signature!, 'base64'))).toBe(true);
  });

  it("then its manifest signs the version and the file's sha256 together, not as a rollback unless asked", async () => {
    expect(JSON.parse(release.manifest!)).toEqual({
      version: '2.3.4',
      file: 'agent.mjs',
      sha256: release.sha256,
      rollback: false,
    });
    expect(
      verify(null, Buffer.from(release.manifest!), keys.publicKey, Buffer.from(release.manifest_signature!, 'base64')),
    ).toBe(true);
    // one byte of the manifest changed (another version) and the signature no longer holds
    const relabelled = release.manifest!.replace('"2.3.4"', '"9.3.4"');
    expect(
      verify(null, Buffer.from(relabelled), keys.publicKey, Buffer.from(release.manifest_signature!, 'base64')),
    ).toBe(false);
  });

  it('then a version agents cannot compare is refused before anything is built', async () => {
    await expect(releaseAgent({ version: 'latest', outDir: join(out.path, 'bad') })).rejects.toThrow(
      'version latest: must be MAJOR.MINOR.PATCH',
    );
  });

  it('then the bundle imports nothing from the project or its TypeScript tooling, only node built-ins and aws-crt', async () => {
    const code = await readFile(join(out.path, 'agent.mjs'), 'utf8');
    const imports = new Set(
      [...code.matchAll(/(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]!),
    );
    for (const spec of imports)
      expect(spec.startsWith('node:') || spec === 'aws-crt' || builtinModules.includes(spec), spec).toBe(true);
    expect(code.includes('"2.3.4"'), 'the version is written into the bundle').toBe(true);
  });

  it('when run with plain node, then it starts and checks its configuration (no tsx, no node_modules but aws-crt)', async () => {
    const bad = await run(process.execPath, [join(out.path, 'agent.mjs'), '--client-id', 'ven-001'], {
      cwd: out.path,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain('IOT_ENDPOINT (--endpoint)');
    const help = await run(process.execPath, [join(out.path, 'agent.mjs'), '--help']);
    expect(help.stdout).toContain('RELEASE_PUBLIC_KEY');
  });
});
