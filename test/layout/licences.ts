// The licences of the production tree: every package `npm install --omit=dev` installs (package-lock.json's entries
// not marked dev), read from its node_modules/<name>/package.json. All must let an Apache-2.0 project ship them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './runtime-imports.js';

/**
 * SPDX identifiers that fit an Apache-2.0 project: permissive licences and public-domain dedications, and MPL-2.0
 * (file-level copyleft on the package's own files only; used unmodified it puts no terms on ours: the ASF's
 * "category B"). It reaches the tree through Vite's CSS minifier (lightningcss), which builds the dashboard.
 */
export const FITS_APACHE_2 = new Set([
  'Apache-2.0',
  'MIT',
  'MIT-0',
  'ISC',
  'BSD-2-Clause',
  'BSD-3-Clause',
  '0BSD',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'CC-BY-4.0',
  'Unlicense',
  'Python-2.0',
  'MPL-2.0',
]);

export interface PackageLicence {
  readonly path: string;
  readonly name: string;
  readonly version: string;
  readonly licence: string;
}

interface LockEntry {
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly license?: string;
}

/** Every installed package of the production tree (bundled dependencies of a package, such as aws-cdk-lib's, too). */
export function productionLicences(root = ROOT): PackageLicence[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev && !entry.link)
    .filter(([path]) => existsSync(join(root, path, 'package.json')))
    .map(([path, entry]) => {
      const manifest = JSON.parse(readFileSync(join(root, path, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
        license?: string | { type?: string };
        licenses?: { type?: string }[];
      };
      const declared =
        typeof manifest.license === 'string'
          ? manifest.license
          : (manifest.license?.type ?? manifest.licenses?.map((l) => l.type).join(' OR ') ?? entry.license ?? '');
      return {
        path,
        name: manifest.name ?? path.replace(/^.*node_modules\//, ''),
        version: manifest.version ?? '',
        licence: declared,
      };
    });
}

/**
 * Whether an SPDX expression fits: an OR needs one fitting side, an AND needs both; `(…)` is stripped. Anything
 * unrecognised (GPL, AGPL, LGPL, SSPL, a custom text) does not fit.
 */
export function fits(expression: string): boolean {
  const e = expression.trim().replace(/^\((.*)\)$/, '$1');
  if (/\s+OR\s+/i.test(e)) return e.split(/\s+OR\s+/i).some(fits);
  if (/\s+AND\s+/i.test(e)) return e.split(/\s+AND\s+/i).every(fits);
  return FITS_APACHE_2.has(e);
}

/** How many packages carry each licence expression, most first. */
export function countByLicence(packages: readonly PackageLicence[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const p of packages) counts.set(p.licence || '(none)', (counts.get(p.licence || '(none)') ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const packages = productionLicences();
  console.log(`${packages.length} packages in the production tree`);
  for (const [licence, n] of countByLicence(packages)) console.log(`${String(n).padStart(5)}  ${licence}`);
  const bad = packages.filter((p) => !fits(p.licence));
  for (const p of bad)
    console.log(`does not fit Apache-2.0: ${p.name}@${p.version} (${p.licence || 'no licence'}) at ${p.path}`);
}
