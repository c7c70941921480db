// Every package the production install carries has a licence an Apache-2.0 project may ship with; GPL, AGPL and
// anything unrecognised fail here. `npx tsx test/layout/licences.ts` prints the counts CONTRIBUTING.md quotes.
import { describe, expect, it } from 'vitest';
import { countByLicence, fits, productionLicences } from './licences.js';

describe('given the production tree (npm install --omit=dev)', () => {
  const packages = productionLicences();

  it('then it is the runtime packages and what they pull in, not the test tools', () => {
    const names = new Set(packages.map((p) => p.name));
    for (const runtime of ['zod', 'aws-cdk-lib', 'esbuild', 'aedes', 'vite'])
      expect(names.has(runtime), runtime).toBe(true);
    for (const dev of ['vitest', 'eslint', 'playwright-core', 'prettier']) expect(names.has(dev), dev).toBe(false);
  });

  it('then every package declares a licence that fits Apache-2.0', () => {
    const unfit = packages.filter((p) => !fits(p.licence)).map((p) => `${p.name}@${p.version}: ${p.licence || 'none'}`);
    expect(unfit).toEqual([]);
    expect(countByLicence(packages).reduce((n, [, count]) => n + count, 0)).toBe(packages.length);
  });

  it('then copyleft licences do not fit, alone or joined by AND, and one fitting side of an OR is enough', () => {
    for (const licence of [
      'GPL-3.0-only',
      'GPL-2.0-or-later',
      'AGPL-3.0',
      'LGPL-3.0',
      'SSPL-1.0',
      '',
      'SEE LICENSE IN x',
    ])
      expect(fits(licence), licence).toBe(false);
    expect(fits('MIT AND GPL-3.0-only')).toBe(false);
    expect(fits('(MIT OR GPL-3.0-or-later)')).toBe(true);
    expect(fits('(Apache-2.0 AND MIT)')).toBe(true);
  });
});
