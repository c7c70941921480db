// One convention for every command a user runs (npm start, provision, agent, release:agent, job, inventory, redrive,
// contract, bench), each spawned as a user runs it: --help/-h print the usage on stdout
// and exit 0; bad usage prints why and the usage on stderr, nothing on stdout, exit 2; a failure at run time prints one
// `error: …` line on stderr, no stack trace, exit 1; --json leaves the data alone on stdout; --dry-run of inventory
// and redrive says what it would do and writes nothing (dynalite and kinesalite, the real SDK clients).
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../bin/local/aws/dynamodb.js';
import { ensureStreams, startKinesis, type LocalKinesis } from '../../bin/local/aws/kinesis.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { tables } from '../../lambdas/core/contracts/tables.js';

const ROOT = join(import.meta.dirname, '../..');
let dir: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-cli-conv-'));
  await writeFile(join(dir, 'junk.pem'), 'not a certificate\n');
  // a port taken: `npm start` on it fails at run time
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => busy?.close(r));
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command as `npm run <name> -- args` runs it (tsx), in its own empty state folder unless told. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, file), ...args],
      { cwd: ROOT, env: { ...process.env, VPP_DEBUG: '', VPP_DIR: join(dir, 'empty'), ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

interface Command {
  name: string;
  file: string;
  usage: RegExp;
  /** A missing or invalid argument, and what the refusal names. */
  bad: [string[], RegExp, NodeJS.ProcessEnv?];
  /** A failure at run time: a file missing, a store unreachable, a port taken. */
  failing: () => [string[], RegExp, NodeJS.ProcessEnv?];
  /** A long run that reports its progress on stdout (the benchmarks): stdout is not empty when it fails. */
  progressOnStdout?: true;
}

const missing = () => join(dir, 'no-such-file');
const COMMANDS: Command[] = [
  {
    name: 'provision',
    file: 'bin/provision.ts',
    usage: /^usage: npm run provision -- <thingName>/,
    bad: [[], /^a thing name is required$/],
    failing: () => [['ven-1', '--aws', '--outputs', missing()], /no-such-file/],
  },
  {
    name: 'agent',
    file: 'bin/agent.ts',
    usage: /^Usage: npm run agent -- --mode/,
    bad: [['--mode', 'tractor'], /^Invalid agent configuration: .*AGENT_MODE/],
    failing: () => {
      const pem = join(dir, 'junk.pem');
      const args = [
        '--mode',
        'ven',
        '--endpoint',
        '127.0.0.1',
        '--port',
        '1',
        '--client-id',
        'ven-1',
        '--web-port',
        'off',
      ];
      return [
        [...args, '--cert', pem, '--key', pem, '--ca', pem, '--data-dir', join(dir, 'agent-data')],
        /AWS_ERROR|invalid/i,
      ];
    },
  },
  {
    name: 'release:agent',
    file: 'bin/release-agent.ts',
    usage: /^usage: npm run release:agent/,
    bad: [['--version', 'latest'], /^--version latest: must be MAJOR\.MINOR\.PATCH$/],
    failing: () => [['--sign-key', missing()], /ENOENT.*no-such-file/],
  },
  {
    name: 'job',
    file: 'bin/job.ts',
    usage: /^usage: npm run job -- document/,
    bad: [['status'], /^status needs a job id$/],
    failing: () => [['status', 'job-1'], /local\.json: start the local stack first/],
  },
  {
    name: 'inventory',
    file: 'bin/inventory.ts',
    usage: /^usage: npm run inventory/,
    bad: [['device/inventory.example.yaml'], /^--table is required/, { VPP_INVENTORY_TABLE: '' }],
    failing: () => [[missing(), '--table', 'vpp-inventory'], /ENOENT.*no-such-file/],
  },
  {
    name: 'redrive',
    file: 'bin/redrive.ts',
    usage: /^usage: npm run redrive/,
    bad: [['--aws'], /^--aws needs --queue-url/],
    failing: () => [[], /local\.json: start the local stack first/],
  },
  {
    name: 'contract',
    file: 'bin/contract.ts',
    usage: /^usage: npm run contract/,
    bad: [['docs'], /^unexpected argument docs$/],
    failing: () => [
      ['--check', '--out', missing()],
      /^error: not what the code generates \(run npm run contract\): docs\/openapi\.json/,
    ],
  },
  {
    name: 'bench',
    file: 'bench/run.ts',
    usage: /^usage: npm run bench/,
    bad: [['no-such-bench'], /^unknown benchmark\(s\): no-such-bench$/],
    // its progress is on stdout; the failure is the one line on stderr
    failing: () => [['dashboard'], /^error: dashboard: no Chromium at .*no-such-file/, { CHROMIUM_PATH: missing() }],
    progressOnStdout: true,
  },
  {
    name: 'start',
    file: 'bin/local.ts',
    usage: /^usage: npm start/,
    bad: [[], /^VPP_HTTP_PORT must be a port number$/, { VPP_HTTP_PORT: 'abc' }],
    failing: () => [
      [],
      /EADDRINUSE/,
      { VPP_DIR: join(dir, 'start'), VPP_HTTP_PORT: String(busyPort), VPP_MQTT_PORT: '0', VPP_FLEET: '0' },
    ],
  },
];

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

// some 45 commands start at once (each a tsx process): on 2 busy cores one can take over 30 s to start and answer
describe.concurrent('every command', { timeout: 90_000 }, () => {
  // -h for the agent (its own parser) and one of those that share bin/cli.ts
  const helps = COMMANDS.flatMap((c) =>
    (['agent', 'redrive'].includes(c.name) ? ['--help', '-h'] : ['--help']).map((flag) => [c.name, flag, c] as const),
  );
  it.each(helps)('%s %s: the usage on stdout, exit 0', async (_n, flag, c) => {
    const result = await run(c.file, [flag]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(c.usage);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    '%s --no-such-option: why and the usage on stderr, nothing on stdout, exit 2',
    async (_n, c) => {
      const result = await run(c.file, ['--no-such-option']);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      const [first, ...rest] = result.stderr.split('\n');
      expect(first).toMatch(/Unknown option '--no-such-option'$/);
      expect(rest.join('\n')).toMatch(c.usage);
      noStack(result.stderr);
    },
  );

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    '%s with a missing or invalid argument: named on one line, then the usage, exit 2',
    async (_n, c) => {
      const [args, why, env] = c.bad;
      const result = await run(c.file, args, env);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      const [first, ...rest] = result.stderr.split('\n');
      expect(first).toMatch(why);
      expect(rest.join('\n')).toMatch(c.usage);
      noStack(result.stderr);
    },
  );

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    '%s failing at run time: one `error:` line on stderr, no stack trace, exit 1',
    async (_n, c) => {
      const [args, why, env] = c.failing();
      const result = await run(c.file, args, env);
      expect(result).toMatchObject({ code: 1, ...(c.progressOnStdout ? {} : { stdout: '' }) });
      const lines = result.stderr.split('\n').filter(Boolean);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(why);
      noStack(result.stderr);
    },
  );

  it('VPP_DEBUG=1 shows the stack trace of a run-time failure', async () => {
    const result = await run('bin/redrive.ts', [], { VPP_DEBUG: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^\s+at /m);
  });

  it('--json: the data alone on stdout, one JSON value a line', async () => {
    const state = join(dir, 'json');
    const provision = await run('bin/provision.ts', ['ven-json', '--json'], { VPP_DIR: state });
    expect(provision.code).toBe(0);
    const lines = provision.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      thingName: 'ven-json',
      certFile: join(state, 'certs', 'ven-json.cert.pem'),
    });
  });
});

describe('--dry-run', () => {
  let dynamo: LocalDynamo;
  let kinesis: LocalKinesis;
  beforeAll(async () => {
    [dynamo, kinesis] = await Promise.all([startDynamo(join(dir, 'db')), startKinesis(join(dir, 'kinesis'))]);
    await Promise.all([
      ensureTables(dynamo.client, { 'vpp-inventory': tables.inventory }),
      ensureStreams(kinesis.client, ['vpp-metering']),
    ]);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.close(), kinesis?.close()]);
  });

  const aws = () => ({
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  // a consistent scan: what is in the table now, the writes just made included
  const rows = async () =>
    (
      (await documentClient(dynamo.client).send(new ScanCommand({ TableName: 'vpp-inventory', ConsistentRead: true })))
        .Items ?? []
    )
      .map((i) => `${i.kind}:${i.id}:${i.site_name ?? ''}`)
      .sort();

  it('inventory --dry-run says which rows it would create, replace and delete, and writes nothing', async () => {
    const doc = documentClient(dynamo.client);
    await doc.send(
      new PutCommand({
        TableName: 'vpp-inventory',
        Item: { kind: 'site', id: 'site-gt', site_id: 'site-gt', site_name: 'before' },
      }),
    );
    await doc.send(
      new PutCommand({
        TableName: 'vpp-inventory',
        Item: { kind: 'site', id: 'site-gone', site_id: 'site-gone', site_name: 'before' },
      }),
    );
    const before = await rows();

    const dry = await run(
      'bin/inventory.ts',
      ['device/inventory.example.yaml', '--table', 'vpp-inventory', '--dry-run', '--json'],
      aws(),
    );
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({
      table: 'vpp-inventory',
      dryRun: true,
      replace: ['site:site-gt'],
      delete: ['site:site-gone'],
    });
    expect(plan.create).toHaveLength(8);
    expect(plan.create).toContain('asset:mx-wind-1');
    expect(await rows()).toEqual(before);

    // the same command without --dry-run does what the plan said
    const real = await run('bin/inventory.ts', ['device/inventory.example.yaml', '--table', 'vpp-inventory'], aws());
    expect(JSON.parse(real.stdout)).toEqual({ table: 'vpp-inventory', sites: 2, assets: 7 });
    const after = await rows();
    expect(after).toHaveLength(9);
    expect(after.join()).not.toContain('site-gone');
  });

  it('redrive --dry-run says which dead letters it would put back, and puts nothing back', async () => {
    const state = join(dir, 'redrive');
    await mkdir(state, { recursive: true });
    const put = await kinesis.client.send(
      new PutRecordsCommand({
        StreamName: 'vpp-metering',
        Records: ['a', 'b'].map((v) => ({ Data: Buffer.from(v), PartitionKey: `ven-${v}` })),
      }),
    );
    const [first, last] = put.Records!.map((r) => r.SequenceNumber!);
    const letter = {
      stream: 'vpp-metering',
      shardId: 'shardId-000000000000',
      startSequenceNumber: first!,
      endSequenceNumber: last!,
    };
    const errorsFile = join(state, 'errors.jsonl');
    await writeFile(
      errorsFile,
      `${JSON.stringify({ reason: 'handler-failed', message: 'stream vpp-metering: store down', kinesis: letter })}\n`,
    );
    await writeFile(
      join(state, 'local.json'),
      JSON.stringify({ kinesisEndpoint: kinesis.endpoint, errorsFile, credentials: { region: 'us-east-1' } }),
    );
    const streamLength = async () => {
      const { ShardIterator } = await kinesis.client.send(
        new GetShardIteratorCommand({
          StreamName: 'vpp-metering',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      return ((await kinesis.client.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }))).Records ?? []).length;
    };

    const dry = await run('bin/redrive.ts', ['--dry-run', '--json'], { VPP_DIR: state });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({
      dryRun: true,
      deadLetters: 1,
      wouldRedrive: [letter],
      records: 2,
      missing: [],
    });
    expect(await streamLength()).toBe(2);
    expect(existsSync(join(state, 'redriven.txt'))).toBe(false);

    // the same command without --dry-run puts them back, once
    const real = await run('bin/redrive.ts', [], { VPP_DIR: state });
    expect(JSON.parse(real.stdout)).toEqual({ deadLetters: 1, redriven: 2, missing: [] });
    expect(await streamLength()).toBe(4);
  });
});
