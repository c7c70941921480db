// 4. Lambda bundles: minified size and module init time in a fresh Node process, AWS SDK bundled vs external.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, symlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ESM_REQUIRE_BANNER } from '../lib/handler-function.js';
import { ROOT, type BenchContext } from './harness.js';
import { atMost, kb, median, ms, round, type BenchResult, type Goal } from './stats.js';

const RUNS = 7;
const SIZE_LIMIT = 300 * 1024;
const INIT_LIMIT_MS = 150;

type Variant = 'bundled' | 'external';

/** What lib/handler-function.ts asks NodejsFunction for, as esbuild options (NodejsFunction runs the same esbuild). */
async function bundle(handler: string, variant: Variant, outDir: string) {
  const outfile = join(outDir, variant, handler, 'index.mjs');
  await build({
    entryPoints: [join(ROOT, 'lambdas', handler, 'handler.ts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    outfile,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    // bundleAwsSDK: false makes NodejsFunction mark @aws-sdk/* external (the nodejs22.x runtime provides it)
    external: variant === 'external' ? ['@aws-sdk/*'] : [],
    logLevel: 'error',
  });
  return { outfile, bytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size };
}

/** The Lambda environment the module loads in: NODE_OPTIONS as deployed, a region, the tables' variables. */
const lambdaEnv = (sourceMaps: boolean): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  NODE_OPTIONS: sourceMaps ? '--enable-source-maps' : '',
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  DEVICES_TABLE: 'd', EVENTS_TABLE: 'e', COMMANDS_TABLE: 'c', TIMESERIES_BACKEND: 'timestream', TIMESTREAM_DATABASE: 'db',
  RETENTION_DAYS: '30', ERROR_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/q', INVENTORY_TABLE: 'i',
  FLEET_EVENTS_TABLE: 'f', REFUSALS_TABLE: 'r', IDEMPOTENCY_TABLE: 'k', COMMAND_TIMEOUT_SEC: '60', IOT_DATA_ENDPOINT: 'https://example.iot.us-east-1.amazonaws.com',
});

/** Milliseconds from `import()` of the bundle to its handler being ready, in a fresh `node` process. */
function initMs(outfile: string, sourceMaps: boolean): number {
  const probe =
    `const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(outfile).href)}); ` +
    "if (typeof m.handler !== 'function') throw new Error('no handler'); console.log(performance.now() - t);";
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { env: lambdaEnv(sourceMaps), encoding: 'utf8' }).trim());
}

interface Measured {
  handler: string;
  variant: Variant;
  bytes: number;
  mapBytes: number;
  initMs: number;
  initMsNoSourceMaps: number;
  runs: number[];
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const outDir = join(ctx.dir, 'bundles');
  await mkdir(outDir, { recursive: true });
  // external @aws-sdk/* resolves the way the runtime's does: from a node_modules beside the bundle's folders
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'));
  const handlers = readdirSync(join(ROOT, 'lambdas'))
    .filter((d) => statSync(join(ROOT, 'lambdas', d)).isDirectory() && d !== 'core')
    .filter((d) => readdirSync(join(ROOT, 'lambdas', d)).includes('handler.ts'))
    .sort();

  const built = new Map<string, Awaited<ReturnType<typeof bundle>>>();
  for (const h of handlers) for (const v of ['bundled', 'external'] as Variant[]) built.set(`${h}/${v}`, await bundle(h, v, outDir));
  const runs = new Map<string, number[]>([...built.keys()].map((k) => [k, []]));
  const plain = new Map<string, number[]>([...built.keys()].map((k) => [k, []]));
  // Round-robin over every bundle so drift and cache effects hit all of them alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [key, b] of built) {
      runs.get(key)!.push(initMs(b.outfile, true));
      if (key.endsWith('/bundled')) plain.get(key)!.push(initMs(b.outfile, false));
    }
  }
  const measured: Measured[] = [...built].map(([key, b]) => {
    const [handler, variant] = key.split('/') as [string, Variant];
    return {
      handler,
      variant,
      bytes: b.bytes,
      mapBytes: b.mapBytes,
      initMs: median(runs.get(key)!),
      initMsNoSourceMaps: plain.get(key)!.length ? median(plain.get(key)!) : Number.NaN,
      runs: runs.get(key)!,
    };
  });
  const of = (v: Variant) => measured.filter((m) => m.variant === v);
  const worst = (v: Variant) => ({
    bytes: Math.max(...of(v).map((m) => m.bytes)),
    initMs: Math.max(...of(v).map((m) => m.initMs)),
  });
  const b = worst('bundled');
  const e = worst('external');
  const goalsOf = (v: Variant, w: { bytes: number; initMs: number }): Goal[] => [
    atMost(`largest bundle (${v} SDK)`, w.bytes / 1024, SIZE_LIMIT / 1024, 'KB'),
    atMost(`slowest module init, median of ${RUNS} (${v} SDK)`, w.initMs, INIT_LIMIT_MS, 'ms'),
  ];
  const met = (goals: Goal[]) => goals.filter((g) => g.met).length;
  const bundledGoals = goalsOf('bundled', b);
  const externalGoals = goalsOf('external', e);
  // External is kept when it meets every goal, or as many as bundled without a slower init: init is what every cold
  // start pays (and, since August 2025, is billed); the size goal stands in for it.
  const keep: Variant =
    met(externalGoals) === externalGoals.length || (met(externalGoals) >= met(bundledGoals) && e.initMs <= b.initMs) ? 'external' : 'bundled';
  const meteringBundled = measured.find((m) => m.handler === 'metering' && m.variant === 'bundled')!;
  ctx.measured.meteringInitMs = meteringBundled.initMs;
  ctx.measured.meteringBundleBytes = meteringBundled.bytes;

  return {
    id: 'bundles',
    title: '4. Lambda bundles: size and module init',
    method:
      `Each handler (lambdas/*/handler.ts) is bundled with esbuild using the options lib/handler-function.ts gives NodejsFunction ` +
      '(ESM, node22 target, minified, external source map without sources, main fields module/main, the createRequire banner), once ' +
      'with the AWS SDK bundled (bundleAwsSDK: true, as deployed) and once with @aws-sdk/* external (provided by the nodejs22.x runtime; ' +
      'here resolved from the project\'s node_modules, files on disk as in the runtime). Init = time from `import()` to the module ' +
      `(handler exported) in a fresh \`node\` process started with the Lambda's NODE_OPTIONS (--enable-source-maps) and environment; ` +
      `${RUNS} runs per bundle, round-robin over all bundles, median. This is Node ${process.version} on this machine; Lambda runs ` +
      'Node 22 on Graviton, so absolute init times there differ. The Lambda runtime\'s own start-up is not included.',
    figures: { measured, worst: { bundled: b, external: e }, kept: keep },
    rows: [
      ...measured.map((m): [string, string] => [
        `${m.handler} (${m.variant} SDK)`,
        `${kb(m.bytes)} (+ ${kb(m.mapBytes)} map); init ${ms(m.initMs)}${Number.isNaN(m.initMsNoSourceMaps) ? '' : `, ${ms(m.initMsNoSourceMaps)} without --enable-source-maps`}`,
      ]),
      ['kept (lib/handler-function.ts)', `${keep} SDK`],
    ],
    goals: [...goalsOf(keep, keep === 'bundled' ? b : e), ...(keep === 'bundled' ? externalGoals : bundledGoals).map((g) => ({ ...g, name: `${g.name}, not kept` }))],
    notes: [
      `External SDK: ${kb(e.bytes)} at most but init ${ms(e.initMs)}, because the SDK's many small files are resolved and compiled ` +
        `one by one at import; bundled: ${kb(b.bytes)} and ${ms(b.initMs)}. External meets the size goal only by moving the SDK out of ` +
        `the bundle into the runtime, where loading it costs more: it would add ${ms(e.initMs - b.initMs)} to every cold start (billed ` +
        `since August 2025), so lib/handler-function.ts keeps ${keep === 'bundled' ? 'bundleAwsSDK: true' : 'bundleAwsSDK: false'}.`,
      `Size: the bundled SDK (DynamoDB, SQS, Timestream write and query clients and @smithy/core) is about 400 KB of each bundle; zod ` +
        'about 100 KB. zod was 440 KB until this issue: `import { z } from \'zod\'` pulls its whole namespace (every locale, JSON-schema ' +
        'support) past esbuild\'s tree shaking; `import * as z from \'zod\'` does not. Measured on this machine during this issue, that ' +
        'took the bundled metering handler from 904 KB to 549 KB and its init (without source maps) from about 170 ms to about 140 ms, ' +
        'with no change in behaviour.',
      `--enable-source-maps (set in every function's NODE_OPTIONS) parses the source map at load: the bundled metering module initialises ` +
        `in ${ms(meteringBundled.initMsNoSourceMaps)} without it against ${ms(meteringBundled.initMs)} with it. Dropping it (and decoding ` +
        'stack traces offline from the .map files) is the cheapest next step; it trades readable stack traces in the logs for init time, ' +
        'so it is left to the lead.',
      'Init times move by ±20% between runs on this virtual machine (the bundled metering module\'s median was 159–220 ms over the ' +
        'runs made during this work, drifting up within a run); sizes do not move.',
      `Init is dominated by V8 compiling the module text (a CPU profile of the import shows compileSourceTextModule on top), so it scales ` +
        'with bundle size: each handler loads every adapter (DynamoDB, Timestream, SQS clients) whichever store it is configured for.',
    ],
    seconds: (Date.now() - started) / 1000,
  };
}
