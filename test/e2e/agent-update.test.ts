// Agent updates over IoT Jobs, end to end on the local stack: the bundled agent (plain node, under its launcher) takes
// a job created with `npm run job`, downloads, verifies, swaps in and restarts into the new version, which reports
// SUCCEEDED after its health check; a broken version is rolled back and FAILED; a tampered file is never run. The
// release's signed manifest binds its version to its file: a lower version is refused unless signed as a rollback,
// a job labelled with another version or an edited manifest is refused, and a file that turns out to run another
// version than its manifest's is replaced by the previous one again.
import { CreateJobCommand, DescribeJobExecutionCommand, IoTClient } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseAgent } from '../../bin/release-agent.js';
import { manifestText } from '../../lambdas/core/contracts/agent-update.js';
import { eventually, startTestStack, type TestStack } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const THING = 'ven-update';
const run = promisify(execFile);

describe('agent update over IoT Jobs', () => {
  let stack: TestStack;
  let launcher: ChildProcess;
  let output = '';
  let iot: IoTClient;
  const keys = generateKeyPairSync('ed25519');
  const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dir = (...p: string[]) => join(stack.dir, 'test', ...p);
  const install = (f: string) => dir('install', f);
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  /** A release folder as release:agent writes it, around any bytes (a broken build), optionally signed wrongly. */
  async function fakeRelease(name: string, version: string, code: string | Buffer, signBytes = code) {
    await mkdir(dir(name), { recursive: true });
    await writeFile(dir(name, 'agent.mjs'), code);
    const sha256 = createHash('sha256').update(code).digest('hex');
    const manifest = manifestText({ version, file: 'agent.mjs', sha256, rollback: false });
    const release = {
      version,
      file: 'agent.mjs',
      awsCrt: 'n/a',
      sha256,
      rollback: false,
      signature: sign(null, Buffer.from(signBytes), keys.privateKey).toString('base64'),
      manifest,
      manifest_signature: sign(null, Buffer.from(manifest), keys.privateKey).toString('base64'),
    };
    await writeFile(dir(name, 'release.json'), JSON.stringify(release));
  }

  const job = async (jobId: string, release: string, target = ['--thing', THING]) =>
    run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin/job.ts'), 'create', '--release', dir(release), ...target, '--job-id', jobId],
      {
        cwd: ROOT,
        env: { ...process.env, VPP_DIR: stack.dir },
      },
    );
  const execution = async (jobId: string) =>
    (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName: THING }))).execution!;
  const finished = (jobId: string) =>
    eventually(async () => {
      await new Promise((r) => setTimeout(r, 200)); // one request every ~0.2 s, not every 20 ms
      const e = await execution(jobId);
      return e.status !== 'QUEUED' && e.status !== 'IN_PROGRESS' && e;
    }, 60_000).catch(async (err: Error) => {
      throw new Error(
        `${err.message}; execution ${JSON.stringify(await execution(jobId).catch(String))}; agent output:\n${output.slice(-4000)}`,
      );
    });

  beforeAll(async () => {
    stack = await startTestStack();
    const { credentials } = stack.config;
    iot = new IoTClient({ endpoint: stack.config.apiUrl, region: credentials.region, credentials });
    await writeFile(join(stack.dir, 'local.json'), JSON.stringify(stack.config));
    await writeFile(
      join(stack.dir, 'release.pub.pem'),
      keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    await releaseAgent({ version: '1.0.0', outDir: dir('r1'), signingKeyPem: privatePem });
    await releaseAgent({ version: '1.1.0', outDir: dir('r2'), signingKeyPem: privatePem });
    // installed as on a device: launcher and agent from the release, aws-crt from node_modules beside them
    await mkdir(dir('install'), { recursive: true });
    for (const f of ['launcher.mjs', 'agent.mjs']) await copyFile(dir('r1', f), install(f));
    await symlink(join(ROOT, 'node_modules'), install('node_modules'));
    const cert = await stack.provision(THING);
    launcher = spawn(
      process.execPath,
      [
        install('launcher.mjs'),
        '--mode',
        'ven',
        '--endpoint',
        '127.0.0.1',
        '--port',
        String(stack.config.mqtt.port),
        '--client-id',
        THING,
        '--cert',
        cert.certFile,
        '--key',
        cert.keyFile,
        '--ca',
        cert.caFile,
        '--web-port',
        'off',
        '--data-dir',
        dir('data'),
        '--release-key',
        join(stack.dir, 'release.pub.pem'),
        '--health-timeout-sec',
        '15',
        '--reconnect-max-sec',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AGENT_INSTALL_DIR: '' } },
    );
    launcher.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    launcher.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  }, 120_000);

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      launcher.kill('SIGTERM');
      await new Promise((r) => launcher.once('exit', r));
    }
    await stack?.dispose();
  });

  const reportedVersion = async () => {
    const { credentials } = stack.config;
    const data = new IoTDataPlaneClient({
      endpoint: stack.config.iotDataEndpoint,
      region: credentials.region,
      credentials,
    });
    const out = await data.send(new GetThingShadowCommand({ thingName: THING }));
    return (JSON.parse(Buffer.from(out.payload!).toString()) as { state: { reported?: { agentVersion?: string } } })
      .state.reported?.agentVersion;
  };

  it('takes jobs only from signed requests, and names the field of a bad one', async () => {
    const unsigned = await fetch(`${stack.config.apiUrl}/jobs/unsigned`, {
      method: 'PUT',
      body: JSON.stringify({ targets: [], document: '{}' }),
    });
    expect(unsigned.status).toBe(403);
    await expect(
      iot.send(new CreateJobCommand({ jobId: 'bad-target', targets: [THING], document: '{}' })),
    ).rejects.toThrow(/^targets: /);
    await expect(
      iot.send(
        new CreateJobCommand({
          jobId: 'bad-doc',
          targets: [`arn:aws:iot:us-east-1:000000000000:thing/${THING}`],
          document: '{',
        }),
      ),
    ).rejects.toThrow(/^document: /);
    const e = await execution('bad-target').catch((err: Error) => err.name);
    expect(e).toBe('ResourceNotFoundException');
  });

  it('updates the bundled agent to a new version, which reports SUCCEEDED once healthy', async () => {
    await job('update-1-1-0', 'r2');
    const e = await finished('update-1-1-0');
    expect(e.status, output).toBe('SUCCEEDED');
    expect(e.statusDetails?.detailsMap).toEqual({ version: '1.1.0', from: '1.0.0' });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
    expect(sha(install('agent.previous.mjs'))).toBe(sha(dir('r1', 'agent.mjs')));
    expect(existsSync(install('update.json'))).toBe(false);
    expect(await reportedVersion()).toBe('1.1.0');
    expect(launcher.exitCode).toBeNull();
  }, 90_000);

  it('rolls a version that fails its health check back and reports FAILED with the reason', async () => {
    await fakeRelease('broken', '1.2.0', "throw new Error('broken build: missing module');\n");
    await job('update-broken', 'broken');
    const e = await finished('update-broken');
    expect(e.status, output).toBe('FAILED');
    expect(e.statusDetails?.detailsMap).toMatchObject({ version: '1.1.0', attempted: '1.2.0' });
    expect(e.statusDetails?.detailsMap?.reason).toContain('broken build: missing module');
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
    expect(readFileSync(install('agent.failed.mjs'), 'utf8')).toContain('broken build');
    expect(existsSync(install('update.json'))).toBe(false);
    expect(launcher.exitCode).toBeNull();
  }, 90_000);

  it('stops and rolls back a version that hangs without ever passing its health check', async () => {
    await fakeRelease('hung', '1.2.1', 'setInterval(() => {}, 1000);\n');
    await job('update-hung', 'hung');
    const e = await finished('update-hung');
    expect(e.status, output).toBe('FAILED');
    expect(e.statusDetails?.detailsMap).toMatchObject({
      version: '1.1.0',
      attempted: '1.2.1',
      reason: 'did not pass its health check within 20 s: stopped',
    });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
  }, 90_000);

  it("refuses a file whose signature is not the release key's and keeps running the current version", async () => {
    const code = "console.log('not from the release key');\n";
    await fakeRelease('tampered', '1.3.0', code, `${code}// signed something else`);
    await job('update-tampered', 'tampered');
    const e = await finished('update-tampered');
    expect(e.status, output).toBe('FAILED');
    expect(e.statusDetails?.detailsMap).toMatchObject({
      version: '1.1.0',
      attempted: '1.3.0',
      reason: 'signature does not verify with the release key',
    });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
    expect(output).not.toContain('not from the release key');
  }, 90_000);

  it('ignores a stale copy of an execution that has ended (a QoS 1 redelivery after a restart): IoT refuses its claim', async () => {
    // the hung job's execution as it was first queued, its document as `npm run job` made it
    const jobDocument = JSON.parse(
      (
        await run(
          process.execPath,
          [
            '--import',
            'tsx',
            join(ROOT, 'bin/job.ts'),
            'document',
            '--release',
            dir('hung'),
            '--url',
            'http://127.0.0.1/releases/x.mjs',
          ],
          { cwd: ROOT },
        )
      ).stdout,
    );
    const stale = {
      jobId: 'update-hung',
      thingName: THING,
      status: 'QUEUED',
      versionNumber: 1,
      executionNumber: 1,
      queuedAt: 1,
      lastUpdatedAt: 1,
      jobDocument,
    };
    await stack.publish(`$aws/things/${THING}/jobs/notify-next`, JSON.stringify({ timestamp: 1, execution: stale }), 1);
    await eventually(() => output.includes('job not claimed'), 20_000);
    expect(output).toMatch(/"code":"(VersionMismatch|InvalidStateTransition)"/);
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
    expect((await execution('update-hung')).status).toBe('FAILED');
  }, 60_000);

  /** The job document `npm run job` makes for a release, its file served by the local stack; `edit` changes it. */
  async function customJob(jobId: string, release: string, edit: (doc: Record<string, unknown>) => void) {
    await mkdir(join(stack.dir, 'releases'), { recursive: true });
    await copyFile(dir(release, 'agent.mjs'), join(stack.dir, 'releases', `custom-${jobId}.mjs`));
    const url = `${stack.config.apiUrl}/releases/custom-${jobId}.mjs`;
    const doc = JSON.parse(
      (
        await run(
          process.execPath,
          ['--import', 'tsx', join(ROOT, 'bin/job.ts'), 'document', '--release', dir(release), '--url', url],
          { cwd: ROOT },
        )
      ).stdout,
    );
    edit(doc);
    await iot.send(
      new CreateJobCommand({
        jobId,
        targets: [`arn:aws:iot:us-east-1:000000000000:thing/${THING}`],
        document: JSON.stringify(doc),
      }),
    );
  }

  it('refuses a signed lower version that is not signed as a rollback: FAILED, the running version stays', async () => {
    await job('downgrade-1-0-0', 'r1');
    const e = await finished('downgrade-1-0-0');
    expect(e.status, output).toBe('FAILED');
    expect(e.statusDetails?.detailsMap).toEqual({
      version: '1.1.0',
      attempted: '1.0.0',
      reason: 'version 1.0.0 is older than the running 1.1.0 and its signed manifest is not a rollback',
    });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
    expect(existsSync(install('update.json'))).toBe(false);
    expect(await reportedVersion()).toBe('1.1.0');
  }, 90_000);

  it('refuses a job that names another version than its signed manifest, and installs nothing', async () => {
    await customJob('mislabelled', 'r1', (doc) => (doc.version = '9.9.9'));
    const e = await finished('mislabelled');
    expect(e.status, output).toBe('FAILED');
    expect(e.statusDetails?.detailsMap).toEqual({
      version: '1.1.0',
      attempted: '9.9.9',
      reason: "job version 9.9.9 is not the signed manifest's 1.0.0",
    });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
    expect(existsSync(install('update.json'))).toBe(false);
  }, 90_000);

  it('refuses a manifest edited after signing (a rollback flag added), and installs nothing', async () => {
    await customJob(
      'edited-manifest',
      'r1',
      (doc) => (doc.manifest = (doc.manifest as string).replace('"rollback":false', '"rollback":true')),
    );
    const e = await finished('edited-manifest');
    expect(e.status, output).toBe('FAILED');
    expect(e.statusDetails?.detailsMap).toEqual({
      version: '1.1.0',
      attempted: '1.0.0',
      reason: 'manifest signature does not verify with the release key',
    });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
  }, 90_000);

  it('puts the previous file back when the file installed runs another version than its signed manifest says', async () => {
    // signed by the release key as 1.5.0, but the bytes are the 1.0.0 build: found out only once it runs
    await fakeRelease('relabelled', '1.5.0', readFileSync(dir('r1', 'agent.mjs')));
    await job('relabelled-1-5-0', 'relabelled');
    const e = await finished('relabelled-1-5-0');
    expect(e.status, output).toBe('FAILED');
    expect(e.statusDetails?.detailsMap).toEqual({
      version: '1.1.0',
      attempted: '1.5.0',
      reason: 'the installed file runs version 1.0.0, not the 1.5.0 the job named: restored 1.1.0',
    });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r2', 'agent.mjs')));
    expect(sha(install('agent.failed.mjs'))).toBe(sha(dir('r1', 'agent.mjs')));
    expect(existsSync(install('update.json'))).toBe(false);
    await eventually(async () => (await reportedVersion()) === '1.1.0', 20_000);
    expect(launcher.exitCode).toBeNull();
  }, 90_000);

  it('goes back fleet-wide through a job for a release signed as a rollback, targeted at the group (every local thing)', async () => {
    await releaseAgent({ version: '1.0.0', outDir: dir('r1-rollback'), signingKeyPem: privatePem, rollback: true });
    await job('back-to-1-0-0', 'r1-rollback', ['--group']);
    const e = await finished('back-to-1-0-0');
    expect(e.status, output).toBe('SUCCEEDED');
    expect(e.statusDetails?.detailsMap).toEqual({ version: '1.0.0', from: '1.1.0' });
    expect(sha(install('agent.mjs'))).toBe(sha(dir('r1-rollback', 'agent.mjs')));
    const status = await run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin/job.ts'), 'status', 'back-to-1-0-0'],
      { cwd: ROOT, env: { ...process.env, VPP_DIR: stack.dir } },
    );
    expect(JSON.parse(status.stdout.trim())).toEqual({
      thingName: THING,
      status: 'SUCCEEDED',
      details: { version: '1.0.0', from: '1.1.0' },
    });
  }, 90_000);
});
