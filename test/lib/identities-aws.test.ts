// Revocation against AWS IoT (no local control plane): the exact requests, in order.
import {
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ListThingPrincipalsCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../lambdas/core/contracts/errors.js';
import { IotDeviceIdentities } from '../../lambdas/core/fleet/identities.js';

const ARN = (id: string) => `arn:aws:iot:eu-west-1:123456789012:cert/${id}`;

function recordingIot(replies: Record<string, (input: any) => unknown>) {
  const iot = new IoTClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const send = vi.spyOn(iot, 'send').mockImplementation((async (command: {
    constructor: { name: string };
    input: unknown;
  }) => {
    const reply = replies[command.constructor.name] ?? (() => ({}));
    return reply(command.input);
  }) as never);
  return { iot, requests: () => send.mock.calls.map(([c]) => [c.constructor.name, c.input]) };
}

describe('IotDeviceIdentities.deactivate', () => {
  it('sets the one certificate INACTIVE (the old one after a rotation) and nothing else', async () => {
    const { iot, requests } = recordingIot({});
    await new IotDeviceIdentities('p', iot).deactivate('aaa');
    expect(requests()).toEqual([[UpdateCertificateCommand.name, { certificateId: 'aaa', newStatus: 'INACTIVE' }]]);
  });
});

describe('IotDeviceIdentities.revoke', () => {
  it('revokes, detaches from the policy and the thing every certificate of the thing (all pages), then marks the thing', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T20:00:00Z'), toFake: ['Date'] });
    const { iot, requests } = recordingIot({
      ListThingPrincipalsCommand: (input) =>
        input.nextToken ? { principals: [ARN('bbb')] } : { principals: [ARN('aaa')], nextToken: 't1' },
    });

    const result = await new IotDeviceIdentities('Vpp-DevicePolicy', iot).revoke('ven-001');

    expect(result).toEqual({ thingName: 'ven-001', certificateIds: ['aaa', 'bbb'] });
    expect(requests()).toEqual([
      [ListThingPrincipalsCommand.name, { thingName: 'ven-001', nextToken: undefined }],
      [ListThingPrincipalsCommand.name, { thingName: 'ven-001', nextToken: 't1' }],
      [UpdateCertificateCommand.name, { certificateId: 'aaa', newStatus: 'REVOKED' }],
      [DetachPolicyCommand.name, { policyName: 'Vpp-DevicePolicy', target: ARN('aaa') }],
      [DetachThingPrincipalCommand.name, { thingName: 'ven-001', principal: ARN('aaa') }],
      [UpdateCertificateCommand.name, { certificateId: 'bbb', newStatus: 'REVOKED' }],
      [DetachPolicyCommand.name, { policyName: 'Vpp-DevicePolicy', target: ARN('bbb') }],
      [DetachThingPrincipalCommand.name, { thingName: 'ven-001', principal: ARN('bbb') }],
      [
        UpdateThingCommand.name,
        {
          thingName: 'ven-001',
          attributePayload: { attributes: { revoked: '2026-11-24T20:00:00.000Z' }, merge: true },
        },
      ],
    ]);
    vi.useRealTimers();
  });

  it('answers a thing that does not exist with a NotFoundError and changes nothing', async () => {
    const { iot, requests } = recordingIot({
      ListThingPrincipalsCommand: () => {
        throw new ResourceNotFoundException({ message: 'no thing', $metadata: {} });
      },
    });
    await expect(new IotDeviceIdentities('p', iot).revoke('ven-404')).rejects.toBeInstanceOf(NotFoundError);
    expect(requests().map(([name]) => name)).toEqual([ListThingPrincipalsCommand.name]);
  });
});
