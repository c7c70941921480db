// Fleet provisioning by claim: the pre-provisioning hook. AWS IoT calls it (a Lambda) before RegisterThing creates a
// thing for a device holding the claim certificate; the local stack calls the same function. A device is provisioned
// only if its serial number is on the allow-list (a DynamoDB table, `serial` = the thing name to be), and only once:
// the hook marks the serial claimed by the device's new certificate, so a stolen claim certificate neither makes a
// new device nor a second certificate for a device already provisioned (re-allow a serial by removing its
// `claimedAt`). IoT calls the hook before it creates the thing: if RegisterThing then fails (throttling, a permission
// gap), the device retries with the same certificate and is allowed again, so the serial is not burned by a failure.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { CLAIM_CLIENT_PREFIX, OPERATOR_CLIENT_PREFIX } from '../contracts/policy.js';
import { THING_NAME } from '../contracts/topics.js';

/** The provisioning template's parameter that carries the serial; the thing is named after it. */
export const SERIAL_PARAMETER = 'SerialNumber';

export interface AllowList {
  /**
   * Claims the serial for the certificate being provisioned: true when it is on the list, not withdrawn, and not
   * claimed before or claimed by this same certificate (a retried RegisterThing).
   */
  claim(serial: string, certificateId: string): Promise<boolean>;
}

/** What AWS IoT sends the hook (the fields it reads). */
export const preProvisioningEventSchema = z.object({
  parameters: z.record(z.string(), z.string()).optional(),
  claimCertificateId: z.string().optional(),
  certificateId: z.string().optional(),
});
export type PreProvisioningEvent = z.infer<typeof preProvisioningEventSchema>;

export interface PreProvisioningResponse {
  readonly allowProvisioning: boolean;
}

/** Allows a serial that is a valid thing name and on the allow-list; anything else, malformed events included, is refused. */
export async function preProvisioningHook(
  event: unknown,
  allowList: AllowList,
): Promise<PreProvisioningResponse & { reason?: string }> {
  const parsed = preProvisioningEventSchema.safeParse(event);
  if (!parsed.success) return { allowProvisioning: false, reason: 'malformed hook event' };
  const serial = parsed.data.parameters?.[SERIAL_PARAMETER];
  if (
    !serial ||
    !THING_NAME.test(serial) ||
    serial.startsWith(CLAIM_CLIENT_PREFIX) ||
    serial.startsWith(OPERATOR_CLIENT_PREFIX)
  ) {
    return { allowProvisioning: false, reason: `${SERIAL_PARAMETER}: missing or not a device's thing name` };
  }
  const certificateId = parsed.data.certificateId;
  if (!certificateId)
    return { allowProvisioning: false, reason: 'certificateId: missing (the certificate being provisioned)' };
  if (!(await allowList.claim(serial, certificateId))) {
    return {
      allowProvisioning: false,
      reason: `${SERIAL_PARAMETER} ${serial} is not on the allow-list (or was provisioned already)`,
    };
  }
  return { allowProvisioning: true };
}

/**
 * The allow-list table (tables.allowList): one item per serial; `disabled: true` withdraws it, `claimedAt` and
 * `claimedBy` (the certificate id) are set by the one provisioning it allowed. One conditional UpdateItem: two devices
 * racing with one serial get one yes; the same certificate asking again gets yes again.
 */
export class DynamoAllowList implements AllowList {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async claim(serial: string, certificateId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { serial },
          UpdateExpression: 'SET claimedAt = if_not_exists(claimedAt, :now), claimedBy = :cert',
          ConditionExpression:
            'attribute_exists(serial) AND (attribute_not_exists(claimedAt) OR claimedBy = :cert) AND (attribute_not_exists(disabled) OR disabled <> :yes)',
          ExpressionAttributeValues: { ':now': this.now().toISOString(), ':cert': certificateId, ':yes': true },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
