// Ownership tokens of the local fleet provisioning expire as AWS IoT's do (an hour), and an expired token is pruned with
// the certificate it was issued for, never registered to a thing: the registry and the token map stay bounded.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCa } from '../../bin/local/iot/certs.js';
import { ProvisioningService, TOKEN_TTL_MS } from '../../bin/local/iot/provisioning-service.js';
import { SERIAL_PARAMETER } from '../../lambdas/core/fleet/provisioning-hook.js';
import { provisioningTopics } from '../../lambdas/core/contracts/topics.js';

const run = promisify(execFile);
let dir: string;
let ca: LocalCa;
let csr: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-provisioning-'));
  ca = new LocalCa(dir);
  await ca.ensure();
  await run('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    join(dir, 'd.key'),
    '-out',
    join(dir, 'd.csr'),
    '-subj',
    '/CN=x',
  ]);
  csr = await readFile(join(dir, 'd.csr'), 'utf8');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A provisioning service whose clock the test moves (`clock.now`), and the answers it published. */
function serviceOnAClock() {
  const clock = { now: 1_800_000_000_000 };
  const answers: { topic: string; body: any }[] = [];
  const service = new ProvisioningService({
    ca,
    templateName: 't',
    allowList: { claim: async () => true },
    reply: async (_client, topic, payload) => void answers.push({ topic, body: JSON.parse(payload) }),
    now: () => clock.now,
  });
  return { service, answers, clock };
}

describe('ownership tokens', () => {
  it('expire after an hour: RegisterThing is then rejected, and the token and its unregistered certificate are pruned', async () => {
    const { service, answers, clock } = serviceOnAClock();
    await service.onMessage(
      provisioningTopics.createFromCsr,
      Buffer.from(JSON.stringify({ certificateSigningRequest: csr })),
      'claim-a',
    );
    const { certificateOwnershipToken, certificateId } = answers.at(-1)!.body;
    expect(ca.registry.get(certificateId)).toMatchObject({ status: 'PENDING_ACTIVATION' });
    expect(service.pendingTokens).toBe(1);

    clock.now += TOKEN_TTL_MS;
    expect(service.pendingTokens).toBe(0);
    expect(ca.registry.get(certificateId)).toBeUndefined();
    await service.onMessage(
      provisioningTopics.provision('t'),
      Buffer.from(JSON.stringify({ certificateOwnershipToken, parameters: { [SERIAL_PARAMETER]: 'ven-900' } })),
      'claim-a',
    );
    expect(answers.at(-1)).toMatchObject({
      topic: provisioningTopics.rejected(provisioningTopics.provision('t')),
      body: { errorCode: 'InvalidCertificateOwnershipToken' },
    });
    expect(ca.registry.ofThing('ven-900')).toEqual([]);
  });

  it('a token used within the hour registers its certificate ACTIVE to the serial, once', async () => {
    const { service, answers, clock } = serviceOnAClock();
    await service.onMessage(
      provisioningTopics.createFromCsr,
      Buffer.from(JSON.stringify({ certificateSigningRequest: csr })),
      'claim-b',
    );
    const { certificateOwnershipToken, certificateId } = answers.at(-1)!.body;
    clock.now += TOKEN_TTL_MS - 1;
    await service.onMessage(
      provisioningTopics.provision('t'),
      Buffer.from(JSON.stringify({ certificateOwnershipToken, parameters: { [SERIAL_PARAMETER]: 'ven-901' } })),
      'claim-b',
    );
    expect(answers.at(-1)!.body).toEqual({ thingName: 'ven-901', deviceConfiguration: {} });
    expect(ca.registry.get(certificateId)).toMatchObject({ status: 'ACTIVE', thingName: 'ven-901' });
    expect(service.pendingTokens).toBe(0);
    clock.now += TOKEN_TTL_MS;
    expect(ca.registry.get(certificateId)).toMatchObject({ status: 'ACTIVE' }); // a registered certificate is never pruned
  });
});
