// Fleet provisioning by claim: the pre-provisioning hook. AWS IoT calls it (a Lambda) before RegisterThing creates a
// thing for a device holding the claim certificate; the local stack calls the same function. A device is provisioned
// only if its serial number is on the allow-list (a DynamoDB table, `serial` = the thing name to be): a stolen claim
// certificate alone makes no device.
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { CLAIM_CLIENT_PREFIX, OPERATOR_CLIENT_PREFIX } from './policy.js';
import { THING_NAME } from './topics.js';

/** The provisioning template's parameter that carries the serial; the thing is named after it. */
export const SERIAL_PARAMETER = 'SerialNumber';

export interface AllowList {
  /** Whether a device with this serial may be provisioned. */
  allows(serial: string): Promise<boolean>;
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
export async function preProvisioningHook(event: unknown, allowList: AllowList): Promise<PreProvisioningResponse & { reason?: string }> {
  const parsed = preProvisioningEventSchema.safeParse(event);
  if (!parsed.success) return { allowProvisioning: false, reason: 'malformed hook event' };
  const serial = parsed.data.parameters?.[SERIAL_PARAMETER];
  if (!serial || !THING_NAME.test(serial) || serial.startsWith(CLAIM_CLIENT_PREFIX) || serial.startsWith(OPERATOR_CLIENT_PREFIX)) {
    return { allowProvisioning: false, reason: `${SERIAL_PARAMETER}: missing or not a device's thing name` };
  }
  if (!(await allowList.allows(serial))) return { allowProvisioning: false, reason: `${SERIAL_PARAMETER} ${serial} is not on the allow-list` };
  return { allowProvisioning: true };
}

/** The allow-list table (tables.allowList): one item per serial; an item with `disabled: true` allows nothing. */
export class DynamoAllowList implements AllowList {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async allows(serial: string): Promise<boolean> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { serial }, ConsistentRead: true }));
    return Item !== undefined && Item.disabled !== true;
  }
}
