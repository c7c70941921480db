// The pre-provisioning hook's decision, as AWS IoT's template and the local stack both run it.
import { describe, expect, it } from 'vitest';
import { preProvisioningHook, type AllowList } from '../../lambdas/core/provisioning-hook.js';

const allowList = (...serials: string[]): AllowList & { asked: string[] } => {
  const asked: string[] = [];
  return { asked, claim: async (serial) => (asked.push(serial), serials.includes(serial)) };
};
const event = (parameters?: Record<string, string>) => ({ claimCertificateId: 'c1', certificateId: 'c2', parameters });

describe('preProvisioningHook', () => {
  it('allows a serial on the allow-list', async () => {
    expect(await preProvisioningHook(event({ SerialNumber: 'ven-101' }), allowList('ven-101'))).toEqual({ allowProvisioning: true });
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
    ['the claim client prefix (a thing named so could be taken over by claim holders)', event({ SerialNumber: 'claim-101' })],
    ["the dashboard's client prefix", event({ SerialNumber: 'operator-1' })],
    ['a malformed event', { parameters: 'ven-101' }],
  ])('refuses %s without asking the allow-list', async (_what, hookEvent) => {
    const list = allowList('ven/101', 'claim-101', 'operator-1', 'ven-101');
    expect((await preProvisioningHook(hookEvent, list)).allowProvisioning).toBe(false);
    expect(list.asked).toEqual([]);
  });
});
