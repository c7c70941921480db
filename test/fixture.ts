import { readFileSync } from 'node:fs';

/** A seed example payload from `test/fixtures/`, as raw text (the wire bytes) or parsed. */
export const fixtureText = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');
export const fixture = <T = Record<string, unknown>>(name: string): T => JSON.parse(fixtureText(name)) as T;
