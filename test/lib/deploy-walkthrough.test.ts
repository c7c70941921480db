// The first deploy as docs/deploy.md walks it, held to what it calls: every tool its commands run is named in its
// prerequisites, every stack output it reads exists, and every flag it passes to our CLIs is one they take.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLAGS } from '../../device/config.js';
import { synthVpp } from './synth.js';

const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
const walkthrough = doc.slice(doc.indexOf('## The first deploy, step by step'), doc.indexOf('## Supported regions'));
const prerequisites = walkthrough.slice(0, walkthrough.indexOf('1. **'));

/** The shell lines of the walk-through: its fenced blocks and inline `…` spans, continuation lines joined. */
function commands(text: string): string[] {
  const fenced = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.trim()),
  );
  const inline = [...text.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]*(?:\n[^`\n]*)?)`/g)].map((m) =>
    m[1]!.replace(/\n\s*/g, ' '),
  );
  return [...fenced, ...inline].filter((l) => /^(npm|npx|aws|jq|openssl|out|export) /.test(l) || l.includes('$(out'));
}

/** The options a CLI of ours declares (`name: { type: … }` in its commandLine call). */
function optionsOf(file: string): string[] {
  const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  return [...source.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type: '(?:string|boolean)'/gm)].map((m) => m[1]!);
}

const flagsAfter = (line: string, command: string) =>
  [...line.slice(line.indexOf(command)).matchAll(/\s--([a-z][a-z-]*)/g)].map((m) => m[1]!);

describe('docs/deploy.md, the first deploy step by step', () => {
  const lines = commands(walkthrough);
  let outputs: string[];

  beforeAll(() => {
    outputs = Object.keys(synthVpp().template.toJSON().Outputs ?? {});
  });

  it('names in its prerequisites every tool its commands run', () => {
    const tools = new Set(
      lines.flatMap((l) => [...l.matchAll(/(?:^|\$\(|\|\s*|;\s*|&&\s*)(npm|npx|aws|jq|openssl)\b/g)].map((m) => m[1]!)),
    );
    // out() is jq over the outputs file
    if (lines.some((l) => /\bout /.test(l))) tools.add('jq');
    const named = (tool: string) =>
      ({ npm: /`npm ci`/, npx: /`npm ci`/, aws: /AWS CLI/, jq: /`jq`/, openssl: /`openssl`/ })[tool]!.test(
        prerequisites,
      );
    expect([...tools].filter((t) => !named(t))).toEqual([]);
    expect(tools.size).toBeGreaterThanOrEqual(4);
  });

  it('reads only outputs the stack has, and lists every output it has', () => {
    const read = [...walkthrough.matchAll(/\bout ([A-Z][A-Za-z]+)/g)].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(3);
    expect(read.filter((o) => !outputs.includes(o))).toEqual([]);
    const listed = doc.slice(doc.indexOf('## Stack outputs'), doc.indexOf('Every resource carries'));
    expect(outputs.filter((o) => !listed.includes(`\`${o}\``))).toEqual([]);
  });

  it('deploys to the region it exports, with the default time series (Timestream is closed to new accounts)', () => {
    const deploy = lines.filter((l) => l.startsWith('npm run deploy'));
    expect(deploy.length).toBeGreaterThan(0);
    for (const l of deploy) {
      expect(l).toContain('-c region=$AWS_REGION');
      expect(l).not.toContain('timeseries=timestream');
    }
    expect(lines.some((l) => /^export AWS_REGION=\S+ AWS_DEFAULT_REGION=/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('npx cdk bootstrap aws://$ACCOUNT/$AWS_REGION'))).toBe(true);
  });

  it('passes the agent, provision and inventory commands only flags they take', () => {
    const take: Record<string, string[]> = {
      'npm run agent': Object.keys(FLAGS),
      'npm run provision': optionsOf('bin/provision.ts'),
      'npm run inventory': optionsOf('bin/inventory.ts'),
    };
    const wrong = lines.flatMap((l) =>
      Object.entries(take).flatMap(([command, flags]) =>
        l.includes(command)
          ? flagsAfter(l, command)
              .filter((f) => !flags.includes(f))
              .map((f) => `${command} --${f}`)
          : [],
      ),
    );
    expect(wrong).toEqual([]);
    // the walk-through onboards a device with each of them
    for (const command of ['npm run agent', 'npm run provision'])
      expect(lines.some((l) => l.includes(command))).toBe(true);
  });
});
