// package.json sorts packages by what needs them: `dependencies` holds everything `npm start`, `cdk synth`/`deploy`
// and the CLI commands load or run, so `npm install --omit=dev` is enough for them; `devDependencies` holds what only
// the tests, the bench, the linters and the type checker use; nothing is listed that nothing uses.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LOADED_BY_NAME,
  packageJson,
  packageOf,
  ROOT,
  RUNTIME_TOOLS,
  runtimeImports,
  TEST_ONLY_IMPORTS,
} from './runtime-imports.js';

const pkg = packageJson();
let imported = new Map<string, string>();

beforeAll(async () => {
  imported = await runtimeImports();
}, 60_000);

describe('given the import graph of bin/, lib/, lambdas/, device/ and web/', () => {
  it('then every package it imports at run time is in dependencies, not devDependencies', () => {
    const misplaced = [...imported]
      .filter(([name]) => !(name in pkg.dependencies) && !(name in TEST_ONLY_IMPORTS))
      .map(([name, file]) => `${name} (imported by ${file})`);
    expect(misplaced).toEqual([]);
  });

  it('then the tools npm start and cdk synth run, and the packages loaded by name, are in dependencies too', () => {
    for (const [name, file] of Object.entries(LOADED_BY_NAME)) {
      expect(readFileSync(join(ROOT, file), 'utf8'), file).toContain(`'${name}'`);
    }
    expect(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).toContain('npx tsx bin/app.ts');
    expect(pkg.scripts.start).toMatch(/^tsx /);
    const missing = [...Object.keys(RUNTIME_TOOLS), ...Object.keys(LOADED_BY_NAME)].filter(
      (name) => !(name in pkg.dependencies),
    );
    expect(missing).toEqual([]);
  });

  it('then dependencies lists nothing else: each entry is imported, run or loaded by name', () => {
    const needed = new Set([...imported.keys(), ...Object.keys(RUNTIME_TOOLS), ...Object.keys(LOADED_BY_NAME)]);
    expect(Object.keys(pkg.dependencies).filter((name) => !needed.has(name))).toEqual([]);
  });

  it('then each devDependency is used: imported by a tracked file, run by a script, or the types of a used package', () => {
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => /\.(ts|tsx|js|mjs|cjs)$/.test(f) && existsSync(join(ROOT, f)));
    const specifiers = new Set<string>();
    for (const f of tracked) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(
        /(?:from\s*|import\(\s*|require\(\s*)['"]([^'"]+)['"]/g,
      ))
        specifiers.add(packageOf(m[1]!));
    }
    const scripts = Object.values(pkg.scripts).join(' ; ');
    const binsOf = (name: string): string[] => {
      const bin = (
        JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { bin?: unknown }
      ).bin;
      return typeof bin === 'string' ? [name] : Object.keys((bin as Record<string, string>) ?? {});
    };
    const used = (name: string): boolean => {
      if (specifiers.has(name)) return true;
      if (binsOf(name).some((b) => new RegExp(`(^|[\\s;&])${b}(\\s|$)`).test(scripts))) return true;
      const typesOf = /^@types\/(.+)$/.exec(name)?.[1];
      return typesOf !== undefined && (typesOf === 'node' || specifiers.has(typesOf.replace(/^(.+)__(.+)$/, '@$1/$2')));
    };
    expect(Object.keys(pkg.devDependencies).filter((name) => !used(name))).toEqual([]);
  });

  it('then the Powertools packages are on one version, asked for and installed', () => {
    const powertools = Object.entries(pkg.dependencies).filter(([name]) => name.startsWith('@aws-lambda-powertools/'));
    expect(powertools.length).toBeGreaterThan(1);
    expect(new Set(powertools.map(([, range]) => range)).size).toBe(1);
    const installed = new Set(
      [...powertools.map(([name]) => name), '@aws-lambda-powertools/commons'].map(
        (name) =>
          (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
            .version,
      ),
    );
    expect(installed.size).toBe(1);
  });
});
