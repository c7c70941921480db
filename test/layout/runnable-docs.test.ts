// The docs' commands run as written. Every fenced block opened with ```sh runnable in README.md and docs/*.md is run,
// page by page and in page order, by bash in a fresh folder that looks like a clone (the repository's files linked in,
// its own .vpp/) against one local stack this file starts on free ports and describes in .vpp/local.json, as
// `npm start` does. A page's blocks share one shell's variables (the first block defines $VPP_API and the rest from
// .vpp/local.json), each runs under `set -euo pipefail` with a time limit, and a failure names the page, the line and
// the output. ```sh runnable background is a command that keeps running (the agent): it is started, the page's next
// blocks run, and it must still be running at the end of the page. docs/develop.md says how to mark a block.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../e2e/helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const BLOCK_TIMEOUT_MS = 45_000;

export interface RunnableBlock {
  readonly page: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly background: boolean;
  readonly script: string;
}

/** The runnable blocks of one Markdown page, in order: the fence's indentation removed from every line. */
export function runnableBlocks(page: string, text: string): RunnableBlock[] {
  const lines = text.split('\n');
  const blocks: RunnableBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```sh runnable( background)?\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    if (j === lines.length) throw new Error(`${page}:${i + 1}: the runnable block is never closed`);
    blocks.push({ page, line: i + 1, background: Boolean(open[2]), script: body.join('\n') });
    i = j;
  }
  return blocks;
}

async function pages(): Promise<{ page: string; blocks: RunnableBlock[] }[]> {
  const names = [
    'README.md',
    ...(await readdir(path.join(root, 'docs')))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  const all = await Promise.all(
    names.map(async (page) => ({ page, blocks: runnableBlocks(page, await readFile(path.join(root, page), 'utf8')) })),
  );
  return all.filter((p) => p.blocks.length > 0);
}

let stack: TestStack;
let work: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  // a clone as a newcomer has it: the tracked top-level entries and node_modules, a .vpp/ of its own
  work = await mkdtemp(path.join(tmpdir(), 'vpp-docs-'));
  for (const entry of await readdir(root))
    if (!['.git', '.vpp', 'dist', 'cdk.out'].includes(entry))
      await symlink(path.join(root, entry), path.join(work, entry));
  // as `npm start` runs it: with the simulated fleet (ven-001…ven-003, a gateway, Winter River and edge nodes)
  stack = await startTestStack({ dir: path.join(work, '.vpp'), fleet: true });
  await writeFile(path.join(work, '.vpp', 'local.json'), `${JSON.stringify(stack.config, null, 2)}\n`, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.pid) killGroup(c.pid, 'SIGKILL');
  await stack?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  output: string;
  readonly done: Promise<number | null>;
}

/** bash with the page's variables so far (`state`), then the block; its own process group, so a kill reaches all. */
function runBlock(block: RunnableBlock, state: string): Run {
  const script = [
    'set -a', // every variable a block sets is kept for the page's next blocks
    `[ -f '${state}' ] && . '${state}'`,
    'set -euo pipefail',
    block.script,
    block.background ? '' : `export -p > '${state}'`,
  ].join('\n');
  const child = spawn('bash', ['-c', script], {
    cwd: work,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // the agent's status page on a free port; npm's own notices off
    env: { ...process.env, WEB_PORT: '0', npm_config_update_notifier: 'false', NO_COLOR: '1' },
  });
  started.push(child);
  const run: Run = {
    child,
    output: '',
    done: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (c: Buffer) => (run.output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (run.output += c.toString()));
  return run;
}

/** Signals a block's whole process group (bash and what it started); one already gone is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

const where = (b: RunnableBlock) => `${b.page}:${b.line}`;

describe('the docs’ runnable blocks', async () => {
  const list = await pages();

  it('are found on the pages that promise them', () => {
    expect(list.map((p) => p.page)).toEqual(expect.arrayContaining(['README.md', 'docs/api.md', 'docs/devices.md']));
  });

  for (const { page, blocks } of list) {
    it(`${page}: ${blocks.length} block(s) run as written`, async () => {
      const state = path.join(work, `.shell-${page.replace(/\W/g, '_')}`);
      const background: { block: RunnableBlock; run: Run }[] = [];
      try {
        for (const block of blocks) {
          const run = runBlock(block, state);
          if (block.background) {
            background.push({ block, run });
            continue;
          }
          const timer = setTimeout(() => run.child.pid && killGroup(run.child.pid, 'SIGKILL'), BLOCK_TIMEOUT_MS);
          const code = await run.done;
          clearTimeout(timer);
          if (code !== 0)
            expect.fail(
              `${where(block)}: exit ${code ?? `killed after ${BLOCK_TIMEOUT_MS / 1000} s`}\n${block.script}\n--- output ---\n${run.output}`,
            );
        }
        for (const { block, run } of background)
          if (run.child.exitCode !== null)
            expect.fail(`${where(block)}: stopped (exit ${run.child.exitCode}) before the page ended\n${run.output}`);
      } finally {
        for (const { run } of background)
          if (run.child.exitCode === null && run.child.pid) killGroup(run.child.pid, 'SIGTERM');
        const late = setTimeout(() => {
          for (const { run } of background) if (run.child.pid) killGroup(run.child.pid, 'SIGKILL');
        }, 10_000);
        await Promise.all(background.map(({ run }) => run.done));
        clearTimeout(late);
      }
    }, 240_000);
  }
});
