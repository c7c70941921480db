// The pre-provisioning hook's decision, as AWS IoT's template and the local stack both run it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { DynamoAllowList, preProvisioningHook, type AllowList } from '../../../lambdas/core/fleet/provisioning-hook.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';

const allowList = (...serials: string[]): AllowList & { asked: string[] } => {
  const asked: string[] = [];
  return { asked, claim: async (serial, _certificateId) => (asked.push(serial), serials.includes(serial)) };
};
const event = (parameters?: Record<string, string>) => ({ claimCertificateId: 'c1', certificateId: 'c2', parameters });

describe('preProvisioningHook', () => {
  it('allows a serial on the allow-list', async () => {
    expect(await preProvisioningHook(event({ SerialNumber: 'ven-101' }), allowList('ven-101'))).toEqual({
      allowProvisioning: true,
    });
  });

  it('refuses a serial not on it, naming it', async () => {
    expect(await preProvisioningHook(event({ SerialNumber: 'ven-102' }), allowList('ven-101'))).toEqual({
      allowProvisioning: false,
      reason: 'SerialNumber ven-102 is not on the allow-list (or was provisioned already)',
    });
  });

  it.each([
    ['no parameters', event()],
    ['no serial', event({ Other: 'x' })],
    ['a serial that is no thing name', event({ SerialNumber: 'ven/101' })],
    [
      'the claim client prefix (a thing named so could be taken over by claim holders)',
      event({ SerialNumber: 'claim-101' }),
    ],
    ["the dashboard's client prefix", event({ SerialNumber: 'operator-1' })],
    ['a malformed event', { parameters: 'ven-101' }],
    ['no certificate id', { parameters: { SerialNumber: 'ven-101' } }],
  ])('refuses %s without asking the allow-list', async (_what, hookEvent) => {
    const list = allowList('ven/101', 'claim-101', 'operator-1', 'ven-101');
    expect((await preProvisioningHook(hookEvent, list)).allowProvisioning).toBe(false);
    expect(list.asked).toEqual([]);
  });
});

describe('given the allow-list table (local DynamoDB), when a device provisions by claim', () => {
  let dir: string;
  let dynamo: LocalDynamo;
  let allow: DynamoAllowList;
  const hook = (serial: string, certificateId: string) =>
    preProvisioningHook({ parameters: { SerialNumber: serial }, certificateId }, allow);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpp-allow-'));
    dynamo = await startDynamo(join(dir, 'db'));
    await ensureTables(dynamo.client, { allowList: tables.allowList });
    const doc = documentClient(dynamo.client);
    for (const serial of ['ven-201', 'ven-202'])
      await doc.send(new PutCommand({ TableName: 'allowList', Item: { serial } }));
    allow = new DynamoAllowList(doc, 'allowList');
  });

  afterAll(async () => {
    await dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('then a RegisterThing retried with the same certificate is allowed again: a failure after the hook does not burn the serial', async () => {
    expect(await hook('ven-201', 'cert-a')).toEqual({ allowProvisioning: true });
    // RegisterThing failed after the hook (throttled, say): the device retries with the same certificate
    expect(await hook('ven-201', 'cert-a')).toEqual({ allowProvisioning: true });
  });

  it('then another certificate for a claimed serial is refused (a copied claim certificate makes no second identity)', async () => {
    expect(await hook('ven-202', 'cert-b')).toEqual({ allowProvisioning: true });
    expect((await hook('ven-202', 'cert-c')).allowProvisioning).toBe(false);
    expect((await hook('ven-201', 'cert-c')).allowProvisioning).toBe(false);
  });

  it('then a serial not on the list is refused', async () => {
    expect((await hook('ven-299', 'cert-d')).allowProvisioning).toBe(false);
  });
});
