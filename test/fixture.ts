import { readFileSync } from 'node:fs';

/** An example payload of the source systems from `test/fixtures/`, as raw text (the wire bytes) or parsed. */
export const fixtureText = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');
export const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fixtureText(name)) as Record<string, unknown>;
