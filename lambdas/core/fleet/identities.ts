// Device identities: revoking a device, which AWS IoT and the local stack both do at once — every certificate of the
// thing REVOKED (IoT Core then refuses it and closes its open connections), the device policy and the thing detached
// from it, and the thing marked `revoked` in the registry. The API route and `npm run provision -- --revoke` use it.
import type { IoTClient } from '@aws-sdk/client-iot';
import { NotFoundError } from '../contracts/errors.js';

export interface RevokedDevice {
  readonly thingName: string;
  /** The certificates revoked, by id. */
  readonly certificateIds: string[];
}

export interface DeviceIdentities {
  /** Revokes every certificate of the thing; a NotFoundError for a thing that does not exist. */
  revoke(thingName: string): Promise<RevokedDevice>;
  /** Deactivates one certificate (the old one after a rotation): refused from then on, its connections closed. */
  deactivate(certificateId: string): Promise<void>;
}

/**
 * The IoT control-plane client, loaded on first use: revocation is an admin's rare call, so the API's bundle leaves
 * this client to the nodejs22.x runtime's copy of the SDK (RUNTIME_SDK_MODULES in lib/handler-function.ts).
 */
const iotSdk = () => import('@aws-sdk/client-iot');

/** AWS IoT: the thing's principals revoked and detached, the thing's `revoked` attribute set. */
export class IotDeviceIdentities implements DeviceIdentities {
  private client?: Promise<IoTClient>;

  constructor(
    /** The stack's device policy (DevicePolicyName). */
    private readonly policyName: string,
    /** @default an IoTClient for the Lambda's region, made on first use */
    iot?: IoTClient,
  ) {
    if (iot) this.client = Promise.resolve(iot);
  }

  private iot(): Promise<IoTClient> {
    return (this.client ??= iotSdk().then(({ IoTClient }) => new IoTClient({})));
  }

  async revoke(thingName: string): Promise<RevokedDevice> {
    const {
      DetachPolicyCommand,
      DetachThingPrincipalCommand,
      ListThingPrincipalsCommand,
      ResourceNotFoundException,
      UpdateCertificateCommand,
      UpdateThingCommand,
    } = await iotSdk();
    const iot = await this.iot();
    const principals: string[] = [];
    try {
      let nextToken: string | undefined;
      do {
        const page = await iot.send(new ListThingPrincipalsCommand({ thingName, nextToken }));
        principals.push(...(page.principals ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (err) {
      if (err instanceof ResourceNotFoundException) throw new NotFoundError(`no thing ${thingName}`);
      throw err;
    }
    const certificateIds: string[] = [];
    for (const principal of principals) {
      const certificateId = principal.split('/').at(-1)!;
      // revoked first: from here on IoT Core refuses the certificate, whatever else fails
      await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
      await iot.send(new DetachPolicyCommand({ policyName: this.policyName, target: principal }));
      await iot.send(new DetachThingPrincipalCommand({ thingName, principal }));
      certificateIds.push(certificateId);
    }
    await iot.send(
      new UpdateThingCommand({
        thingName,
        attributePayload: { attributes: { revoked: new Date().toISOString() }, merge: true },
      }),
    );
    return { thingName, certificateIds };
  }

  async deactivate(certificateId: string): Promise<void> {
    const { ResourceNotFoundException, UpdateCertificateCommand } = await iotSdk();
    const iot = await this.iot();
    try {
      await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) throw new NotFoundError(`no certificate ${certificateId}`);
      throw err;
    }
  }
}
