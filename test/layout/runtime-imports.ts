// The packages the project's own code imports at run time, found by resolving its import graph with esbuild (type-only
// imports drop out as they do at run time), and the tools its commands run. What `npm start`, `cdk synth`/`deploy` and
// the other `npm run` commands need once installed with `npm install --omit=dev` must be among `dependencies`.
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

export const ROOT = new URL('../../', import.meta.url).pathname;

/** Where the shipped code starts: every command, the CDK app, the Lambdas, the device agent and the dashboard. */
export function entryPoints(): string[] {
  const tracked = execFileSync('git', ['ls-files', 'bin', 'lib', 'lambdas', 'device', 'web'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => /\.(ts|tsx|mjs|js)$/.test(f) && !f.endsWith('.d.ts'));
  return tracked.map((f) => join(ROOT, f));
}

/**
 * Tools the commands run rather than import: `npm start` and the CLI scripts run under tsx; `cdk synth` runs the
 * app with `npx tsx` (cdk.json) and bundles each Lambda with esbuild's binary (NodejsFunction); `npm run synth` and
 * `deploy` call the aws-cdk CLI.
 */
export const RUNTIME_TOOLS: Record<string, string> = {
  tsx: "npm start, the CLI scripts and cdk.json's app command run TypeScript with it",
  esbuild: "cdk synth's NodejsFunction bundles every Lambda with it",
  'aws-cdk': 'npm run synth / deploy run its cdk command',
};

/** Packages the local stack loads by name in a worker thread (startWorkerServer), where no import names them. */
export const LOADED_BY_NAME: Record<string, string> = {
  dynalite: 'bin/local/aws/dynamodb.ts',
  kinesalite: 'bin/local/aws/kinesis.ts',
};

/**
 * Packages the code imports only on a path no command takes: test stacks alone hold the API's answers to the OpenAPI
 * document (`checkResponses`, bin/local/response-check.ts, a dynamic import).
 */
export const TEST_ONLY_IMPORTS: Record<string, string> = {
  ajv: 'bin/local/response-check.ts',
};

/** The package an import specifier names: `@scope/name` or `name`, without a subpath. */
export const packageOf = (specifier: string): string =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

/** Every package the code reaches at run time, with one file that imports it. */
export async function runtimeImports(): Promise<Map<string, string>> {
  const result = await build({
    entryPoints: entryPoints(),
    bundle: true,
    write: false,
    metafile: true,
    outdir: '/nonexistent',
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
    loader: { '.css': 'empty', '.svg': 'empty', '.png': 'empty', '.wasm': 'empty' },
  });
  const found = new Map<string, string>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const i of input.imports) {
      if (!i.external || isBuiltin(i.path) || i.path.startsWith('.') || i.path.startsWith('#')) continue;
      if (!found.has(packageOf(i.path))) found.set(packageOf(i.path), file);
    }
  }
  return found;
}

export const packageJson = (): {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
} => JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
