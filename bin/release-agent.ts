// `npm run release:agent -- [--version v] [--out dist/agent] [--sign-key release-key.pem] [--rollback]`: the agent as
// one bundled file for plain `node` (esbuild), its launcher, and `release.json`: version, sha256, the file's Ed25519
// signature, and the signed manifest (version and sha256 signed together; `--rollback` signs it as one a device on a
// higher version may go back to, which agents otherwise refuse).
// aws-crt stays outside the bundle: its native binary is found relative to its own package, so a device keeps
// `node_modules/aws-crt` (npm install aws-crt@<release.json awsCrt>) beside the files; an update ships agent.mjs alone.
import { build } from 'esbuild';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256Hex } from '../device/update/artifact.js';
import { manifestText, RELEASE_VERSION } from '../lambdas/core/contracts/agent-update.js';
import { ESM_REQUIRE_BANNER } from '../lib/handler-function.js';
import { commandLine, output, refuse } from './cli.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Release {
  readonly version: string;
  readonly file: string;
  readonly sha256: string;
  /** Base64 Ed25519 signature of the file, when a signing key was given. */
  readonly signature?: string;
  /** A release signed on purpose to go back to: devices on a higher version take it. */
  readonly rollback: boolean;
  /** The manifest as signed (version, file, sha256, rollback), and its base64 Ed25519 signature, when signed. */
  readonly manifest?: string;
  readonly manifest_signature?: string;
  /** The aws-crt version to install beside it. */
  readonly awsCrt: string;
}

export async function releaseAgent(opts: {
  version?: string;
  outDir?: string;
  signingKeyPem?: string;
  rollback?: boolean;
}): Promise<Release> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
  };
  const crt = JSON.parse(await readFile(join(ROOT, 'node_modules', 'aws-crt', 'package.json'), 'utf8')) as {
    version: string;
  };
  const version = opts.version ?? pkg.version;
  if (!RELEASE_VERSION.test(version))
    throw new Error(`version ${version}: must be MAJOR.MINOR.PATCH (agents compare versions to refuse going back)`);
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
  await build({
    ...common,
    entryPoints: [join(ROOT, 'bin', 'agent-launcher.ts')],
    outfile: join(outDir, 'launcher.mjs'),
  });
  const bytes = await readFile(join(outDir, 'agent.mjs'));
  const sha256 = sha256Hex(bytes);
  const rollback = opts.rollback ?? false;
  const key = opts.signingKeyPem === undefined ? undefined : createPrivateKey(opts.signingKeyPem);
  const manifest = manifestText({ version, file: 'agent.mjs', sha256, rollback });
  const release: Release = {
    version,
    file: 'agent.mjs',
    sha256,
    ...(key && { signature: sign(null, bytes, key).toString('base64') }),
    rollback,
    ...(key && { manifest, manifest_signature: sign(null, Buffer.from(manifest, 'utf8'), key).toString('base64') }),
    awsCrt: crt.version,
  };
  await writeFile(join(outDir, 'release.json'), `${JSON.stringify(release, null, 2)}\n`);
  return release;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const usage = `usage: npm run release:agent -- [--version <MAJOR.MINOR.PATCH>] [--out <dir>] [--sign-key <Ed25519 key.pem>] [--rollback] [--json]
  --version    the release's version (default: package.json's)
  --out        where to write agent.mjs, launcher.mjs and release.json (default: dist/agent)
  --sign-key   the release signing key (or RELEASE_SIGNING_KEY); agents refuse unsigned updates
  --rollback   sign it as a release devices on a higher version may go back to
  --json       the release alone on stdout, as JSON`;
  const { values, positionals } = commandLine(usage, {
    version: { type: 'string' },
    out: { type: 'string' },
    'sign-key': { type: 'string' },
    rollback: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0) refuse(`unexpected argument ${positionals[0]}`);
  if (values.version !== undefined && !RELEASE_VERSION.test(values.version))
    refuse(`--version ${values.version}: must be MAJOR.MINOR.PATCH`);
  const keyFile = values['sign-key'] ?? process.env.RELEASE_SIGNING_KEY;
  const release = await releaseAgent({
    ...(values.version !== undefined && { version: values.version }),
    ...(values.out !== undefined && { outDir: values.out }),
    ...(values.rollback && { rollback: true }),
    ...(keyFile !== undefined && { signingKeyPem: await readFile(keyFile, 'utf8') }),
  });
  if (!release.signature)
    process.stderr.write(
      'warning: unsigned release (no --sign-key / RELEASE_SIGNING_KEY): agents refuse it as an update\n',
    );
  output(release);
}
