// The local stack's device identities: the certificate registry (.vpp/certificates.json) marks the thing's
// certificates REVOKED, which the broker checks on every connect; its open connections are dropped at once.
import { NotFoundError } from '../../../lambdas/core/contracts/errors.js';
import type { DeviceIdentities, RevokedDevice } from '../../../lambdas/core/fleet/identities.js';
import type { CertificateRegistry } from './cert-registry.js';

export class LocalDeviceIdentities implements DeviceIdentities {
  constructor(
    private readonly registry: CertificateRegistry,
    /** Drops the open connections of a certificate (the broker's); absent when no broker runs in this process. */
    private readonly disconnect?: (certificateId: string) => void,
  ) {}

  async revoke(thingName: string): Promise<RevokedDevice> {
    const records = this.registry.ofThing(thingName);
    if (records.length === 0) throw new NotFoundError(`no thing ${thingName} with a certificate`);
    for (const { certificateId } of records) {
      this.registry.update(certificateId, { status: 'REVOKED' });
      this.disconnect?.(certificateId);
    }
    return { thingName, certificateIds: records.map((r) => r.certificateId) };
  }

  async deactivate(certificateId: string): Promise<void> {
    if (!this.registry.get(certificateId)) throw new NotFoundError(`no certificate ${certificateId}`);
    this.registry.update(certificateId.toLowerCase(), { status: 'INACTIVE' });
    this.disconnect?.(certificateId);
  }
}
