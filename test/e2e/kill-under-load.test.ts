// kill -9 of the local stack under load loses nothing it acknowledged: a QoS 1 PUBACK means the message is in the
// metering stream on disk, and a restart on the same folder consumes what was left from the last checkpoint.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killUnderLoad } from '../../bench/kill-under-load.js';

const dir = await mkdtemp(join(tmpdir(), 'vpp-kill9-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the local stack killed with SIGKILL under QoS 1 metering', () => {
  it('stores every message it acknowledged, after a restart on the same folder', { timeout: 150_000 }, async () => {
    const run = await killUnderLoad({ dir, rate: 500, killAfterMs: 2500 });
    expect(run.acked).toBeGreaterThan(200);
    expect(run.sent).toBeGreaterThan(run.acked - 1);
    expect(run).toMatchObject({ lost: 0, ackedStored: run.acked });
  });
});
