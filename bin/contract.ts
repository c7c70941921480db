// `npm run contract`: writes the published contract (docs/openapi.json, docs/asyncapi.json, docs/schemas/*.json)
// from the code that enforces it (bin/contract/documents.ts). `--check`: writes nothing, exits 1 when a file differs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, fail, refuse } from './cli.js';
import { contractFiles } from './contract/documents.js';

const USAGE = `usage: npm run contract -- [--check] [--out <dir>]
  writes docs/openapi.json, docs/asyncapi.json and docs/schemas/*.schema.json from the code
  --check       write nothing; exit 1 naming each file that is not what the code generates
  --out <dir>   the folder that holds docs/ (default: this repository)`;
const { values, positionals } = commandLine(USAGE, { check: { type: 'boolean' }, out: { type: 'string' } });
if (positionals.length > 0) refuse(`unexpected argument ${positionals[0]}`);
if (values.out === '') refuse('--out needs a folder');

const root = values.out ? resolve(values.out) : join(dirname(fileURLToPath(import.meta.url)), '..');
const files = contractFiles();
const stale: string[] = [];
for (const [path, text] of Object.entries(files)) {
  const file = join(root, path);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) continue;
  stale.push(path);
  if (!values.check) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
}
if (values.check && stale.length)
  fail(new Error(`not what the code generates (run npm run contract): ${stale.join(', ')}`));
process.stdout.write(
  values.check
    ? `${Object.keys(files).length} files up to date\n`
    : `${stale.length ? `wrote ${stale.join(', ')}` : 'nothing changed'}\n`,
);
