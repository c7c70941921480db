// Each Lambda bundle carries the AWS clients its handler uses with the store the stack is configured for, and no
// other: the assets `cdk synth` stages, read as text.
import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/handler-function.js';
import { bundleDir, handlerFunctions, synthVpp } from './synth.js';

type Backend = 'dynamodb' | 'timestream';

/** Strings only the code of one client carries (its endpoint rules or an operation name), as minified. */
const CLIENT_MARKERS = {
  'timestream-write': 'ingest.timestream',
  'timestream-query': 'query.timestream',
  'iot-data-plane': 'GetThingShadow',
  iot: '/things/{thingName}/principals',
} as const;

const clientsIn = (code: string) =>
  Object.entries(CLIENT_MARKERS).flatMap(([client, marker]) => (code.includes(marker) ? [client] : []));

describe('given a stack per time-series backend, when synthesized with bundling', () => {
  const bundles = {} as Record<Backend, Record<string, string>>;
  const backends = {} as Record<Backend, Record<string, string | undefined>>;
  let apiDir = '';

  beforeAll(() => {
    for (const backend of ['dynamodb', 'timestream'] as const) {
      const synth = synthVpp({ timeseries: backend }, { bundle: true });
      const fns = handlerFunctions(synth.stack);
      bundles[backend] = Object.fromEntries(
        fns.map(([name, fn]) => [name, readFileSync(join(bundleDir(synth, fn), 'index.mjs'), 'utf8')]),
      );
      apiDir = bundleDir(synth, synth.stack.api.handler);
      backends[backend] = Object.fromEntries(fns.map(([name, fn]) => [name, fn.timeseries]));
    }
  }, 300_000);

  it('then no bundle of a dynamodb stack carries Timestream code, and in a timestream stack only the Lambdas that write or read time series do', () => {
    const clients = (backend: Backend) =>
      Object.fromEntries(Object.entries(bundles[backend]).map(([name, code]) => [name, clientsIn(code)]));
    expect(clients('dynamodb')).toEqual({
      metering: [],
      ack: [],
      'winter-river': ['iot-data-plane'],
      presence: [],
      der: [],
      edge: [],
      'command-timeouts': ['iot-data-plane'], // the sweep sends a scheduled event's commands at its start
      rollups: [],
      api: ['iot-data-plane'],
      'iot-authorizer': [],
      'provisioning-hook': [],
    });
    expect(clients('timestream')).toEqual({
      metering: ['timestream-write'],
      ack: [],
      'winter-river': ['timestream-write', 'iot-data-plane'],
      presence: [],
      der: ['timestream-write'],
      edge: ['timestream-write'],
      'command-timeouts': ['timestream-write', 'timestream-query', 'iot-data-plane'], // the store reads (settlement), its writer with it; scheduled starts
      rollups: ['timestream-write', 'timestream-query'],
      api: ['timestream-write', 'timestream-query', 'iot-data-plane'],
      'iot-authorizer': [],
      'provisioning-hook': [],
    });
  });

  it('then each function built for a backend is the one whose environment names it', () => {
    const expected = (backend: Backend) => ({
      metering: backend,
      ack: backend,
      'winter-river': backend,
      presence: backend,
      der: backend,
      edge: backend,
      'command-timeouts': backend,
      rollups: backend,
      api: backend,
      'iot-authorizer': undefined,
      'provisioning-hook': undefined,
    });
    expect(backends.dynamodb).toEqual(expected('dynamodb'));
    expect(backends.timestream).toEqual(expected('timestream'));
  });

  it('then a bundle imports nothing but Node built-ins when it loads: the SDK parts left out are reached by dynamic import() alone', () => {
    for (const [name, code] of Object.entries(bundles.dynamodb)) {
      const staticImports = [...code.matchAll(/(?:^|[;}\s])import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+)["']/g)].map(
        (m) => m[1],
      );
      expect(staticImports.length, name).toBeGreaterThan(0);
      expect(
        staticImports.filter((s) => !isBuiltin(s!)),
        name,
      ).toEqual([]);
    }
    const lazy = (name: string) => [...bundles.dynamodb[name]!.matchAll(/import\("(@[^"]+)"\)/g)].map((m) => m[1]);
    expect(lazy('metering')).toContain('@aws-sdk/credential-provider-sso');
    // the IoT control plane only for the admin's revocation routes, from the runtime's SDK
    expect(lazy('api')).toContain('@aws-sdk/client-iot');
  });

  it('then the API bundle leaves the LP solver out of its index.mjs and carries the package beside it, where its import() finds it and solves', async () => {
    const shipped = join(apiDir, 'node_modules/highs');
    const wasm = readFileSync(join(shipped, 'build/highs.wasm'));
    expect(wasm.equals(readFileSync(join(PROJECT_ROOT, 'node_modules/highs/build/highs.wasm')))).toBe(true);
    expect(bundles.dynamodb.api).toContain('import("highs")');
    expect(bundles.dynamodb.api).not.toContain('highs.wasm');
    // what Node resolves `import("highs")` to from the bundle's folder: the shipped copy, whose loader finds its wasm
    const entry = createRequire(join(apiDir, 'index.mjs')).resolve('highs');
    expect(entry.startsWith(shipped)).toBe(true);
    const { default: load } = (await import(pathToFileURL(join(shipped, 'build/highs.mjs')).href)) as {
      default: () => Promise<{ solve(lp: string): { Status: string; ObjectiveValue: number } }>;
    };
    const solution = (await load()).solve(
      'Maximize\n obj: x + y\nSubject To\n c1: x + 2 y <= 4\nBounds\n 0 <= x <= 3\nEnd',
    );
    expect(solution.Status).toBe('Optimal');
    expect(solution.ObjectiveValue).toBeCloseTo(3.5);
    for (const [name, code] of Object.entries(bundles.dynamodb)) expect(code.includes('highs.wasm'), name).toBe(false);
  });

  it('then no bundle carries a YAML parser: topologies and inventories reach the Lambdas as JSON', () => {
    for (const [name, code] of Object.entries(bundles.dynamodb))
      expect(code.includes('tag:yaml.org,2002'), name).toBe(false);
  });
});
