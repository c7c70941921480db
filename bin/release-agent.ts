// `npm run release:agent -- [--version v] [--out dist/agent] [--sign-key release-key.pem]`: the agent as one
// bundled file for plain `node` (esbuild), its launcher, and `release.json` (version, sha256, Ed25519 signature).
// aws-crt stays outside the bundle: its native binary is found relative to its own package, so a device keeps
// `node_modules/aws-crt` (npm install aws-crt@<release.json awsCrt>) beside the files; an update ships agent.mjs alone.
import { build } from 'esbuild';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { sha256Hex } from '../device/update/artifact.js';
import { ESM_REQUIRE_BANNER } from '../lib/handler-function.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Release {
  readonly version: string;
  readonly file: string;
  readonly sha256: string;
  /** Base64 Ed25519 signature of the file, when a signing key was given. */
  readonly signature?: string;
  /** The aws-crt version to install beside it. */
  readonly awsCrt: string;
}

export async function releaseAgent(opts: { version?: string; outDir?: string; signingKeyPem?: string }): Promise<Release> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  const crt = JSON.parse(await readFile(join(ROOT, 'node_modules', 'aws-crt', 'package.json'), 'utf8')) as { version: string };
  const version = opts.version ?? pkg.version;
  const outDir = resolve(opts.outDir ?? join(ROOT, 'dist', 'agent'));
  await mkdir(outDir, { recursive: true });
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
    // CommonJS packages inside an ESM bundle still call require()
    banner: { js: ESM_REQUIRE_BANNER },
  } as const;
  await build({
    ...common,
    entryPoints: [join(ROOT, 'bin', 'agent.ts')],
    outfile: join(outDir, 'agent.mjs'),
    external: ['aws-crt'],
    define: { __AGENT_VERSION__: JSON.stringify(version) },
  });
  await build({ ...common, entryPoints: [join(ROOT, 'bin', 'agent-launcher.ts')], outfile: join(outDir, 'launcher.mjs') });
  const bytes = await readFile(join(outDir, 'agent.mjs'));
  const release: Release = {
    version,
    file: 'agent.mjs',
    sha256: sha256Hex(bytes),
    ...(opts.signingKeyPem !== undefined && { signature: sign(null, bytes, createPrivateKey(opts.signingKeyPem)).toString('base64') }),
    awsCrt: crt.version,
  };
  await writeFile(join(outDir, 'release.json'), `${JSON.stringify(release, null, 2)}\n`);
  return release;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { version: { type: 'string' }, out: { type: 'string' }, 'sign-key': { type: 'string' } },
    strict: true,
  });
  const keyFile = values['sign-key'] ?? process.env.RELEASE_SIGNING_KEY;
  const release = await releaseAgent({
    ...(values.version !== undefined && { version: values.version }),
    ...(values.out !== undefined && { outDir: values.out }),
    ...(keyFile !== undefined && { signingKeyPem: await readFile(keyFile, 'utf8') }),
  });
  if (!release.signature) process.stderr.write('warning: unsigned release (no --sign-key / RELEASE_SIGNING_KEY): agents refuse it as an update\n');
  process.stdout.write(`${JSON.stringify(release)}\n`);
}
