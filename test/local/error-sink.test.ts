// The error sink never stops ingest: a failing file is counted, the file rotates with a size bound, and refusals
// from one device are rate-limited and counted.
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileErrorSink } from '../../bin/local/lambda/error-sink-file.js';
import { limitErrorSink } from '../../lambdas/core/ingest/error-sink-limit.js';
import type { Rejection } from '../../lambdas/core/ingest/ingest-ports.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, startTestStack } from '../e2e/helpers.js';
import { connectDevice } from '../e2e/sdk-client.js';
import { fixtureText } from '../fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-sink-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const refusal = (clientId: string, i = 0): Rejection => ({
  reason: 'schema',
  message: `bad ${i}`,
  clientId,
  topic: topics.metering,
});

describe('limitErrorSink', () => {
  it('lets a burst through, holds back the rest of one device, and counts what it held back', async () => {
    const recorded: Rejection[] = [];
    let now = 0;
    const sink = limitErrorSink(
      { reject: async (r) => void recorded.push(r) },
      { perSecond: 5, burst: 20, now: () => now },
    );
    for (let i = 0; i < 100; i++) await sink.reject(refusal('ven-flood', i));
    await sink.reject(refusal('ven-quiet'));
    expect(recorded.filter((r) => r.clientId === 'ven-flood')).toHaveLength(20);
    expect(recorded.filter((r) => r.clientId === 'ven-quiet')).toHaveLength(1);
    now = 1000; // 5 more tokens
    await sink.reject(refusal('ven-flood', 100));
    expect(recorded.at(-1)).toMatchObject({ clientId: 'ven-flood', message: 'bad 100', suppressed: 80 });
  });
});

describe('FileErrorSink', () => {
  it('never rejects when the file cannot be written, and counts the failure', async () => {
    const file = join(dir, 'is-a-directory.jsonl');
    await mkdir(file);
    const failures: Error[] = [];
    const sink = new FileErrorSink(file, { onFailure: (e) => failures.push(e) });
    await expect(sink.reject(refusal('ven-1'))).resolves.toBeUndefined();
    expect(sink.failures).toBe(1);
    expect(failures[0]?.message).toMatch(/EISDIR/);
  });

  it('rotates at its size bound: the two files never hold more than twice it, the newest line in the current one', async () => {
    const file = join(dir, 'errors.jsonl');
    const sink = new FileErrorSink(file, { maxBytes: 2000 });
    for (let i = 0; i < 100; i++) await sink.reject(refusal('ven-1', i));
    expect((await stat(file)).size).toBeLessThanOrEqual(2000);
    expect((await stat(`${file}.1`)).size).toBeLessThanOrEqual(2000);
    expect((await readFile(file, 'utf8')).trim().split('\n').at(-1)).toContain('"bad 99"');
  });
});

describe('the local stack with a broken error sink', () => {
  it('keeps storing good messages after a refusal it could not write', async () => {
    const stackDir = await mkdtemp(join(tmpdir(), 'vpp-sink-stack-'));
    await mkdir(join(stackDir, 'errors.jsonl')); // the sink's file cannot be written: as a full disk would
    const stack = await startTestStack({ dir: stackDir });
    try {
      // a refusal by the broker (another device's topic) and one by the rule handler (not JSON)
      const intruder = await connectDevice(await stack.provision('ven-009'), 'ven-009');
      await intruder.publish(topics.ack('ven-001'), '{}').catch(() => undefined);
      await intruder.close().catch(() => undefined);
      stack.deliverToRules(topics.metering, Buffer.from('{not json'), 'ven-001');
      stack.deliverToRules(topics.metering, Buffer.from(fixtureText('volttron-metering')), 'ven-001');
      await stack.settle();
      // stored: the VEN shows once its registry write reaches the eventually consistent read (as in AWS)
      await eventually(async () => (await stack.api('/api/vens/ven-001')).status === 200);
    } finally {
      await stack.dispose();
      await rm(stackDir, { recursive: true, force: true });
    }
  });
});
