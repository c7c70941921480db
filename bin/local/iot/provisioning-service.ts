// AWS IoT's fleet provisioning MQTT API on the local broker: `$aws/certificates/create-from-csr/json` signs the
// device's CSR with the local CA (the key never leaves the device) and answers an ownership token;
// `$aws/provisioning-templates/{name}/provision/json` (RegisterThing) runs the same pre-provisioning hook as the
// deployed template (the serial on the allow-list), then attaches the certificate to the thing named by the serial.
// Answers go to `…/accepted` or `…/rejected`, to the requesting connection only, in AWS IoT's shapes.
import { randomBytes } from 'node:crypto';
import {
  preProvisioningHook,
  SERIAL_PARAMETER,
  type AllowList,
} from '../../../lambdas/core/fleet/provisioning-hook.js';
import { parseProvisionTopic, provisioningTopics } from '../../../lambdas/core/contracts/topics.js';
import type { LocalCa } from './certs.js';

/**
 * AWS IoT's ownership tokens last an hour; a certificate not registered to a thing by then is deleted (the developer
 * guide's CreateCertificateFromCsr note). Tokens are pruned as they expire, and their certificates with them.
 */
export const TOKEN_TTL_MS = 60 * 60 * 1000;
/**
 * CreateCertificateFromCsr per claim connection (client id): a burst of CSR_BURST, then one each CSR_REFILL_MS. A device
 * needs one; IoT Core throttles the API (its quota is per account); this bound is the local stack's own.
 */
export const CSR_BURST = 3;
export const CSR_REFILL_MS = 10_000;

export interface ProvisioningServiceOptions {
  readonly ca: LocalCa;
  /** The one provisioning template the local stack serves. */
  readonly templateName: string;
  readonly allowList: AllowList;
  /** Publishes to the requesting client only. */
  readonly reply: (clientId: string, topic: string, payload: string) => Promise<void>;
  readonly log?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Rejection {
  statusCode: number;
  errorCode: string;
  errorMessage: string;
}

export class ProvisioningService {
  private readonly tokens = new Map<string, { certificateId: string; expiresAt: number }>();
  private readonly csrBuckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: ProvisioningServiceOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Ownership tokens issued and neither used nor expired. */
  get pendingTokens(): number {
    this.prune();
    return this.tokens.size;
  }

  /** Whether the topic is a provisioning request this service answers. */
  handles(topic: string): boolean {
    return topic === provisioningTopics.createFromCsr || parseProvisionTopic(topic) !== undefined;
  }

  async onMessage(topic: string, payload: Buffer, clientId: string): Promise<void> {
    const answer = await this.answer(topic, payload, clientId).catch((err: Error): { rejected: Rejection } => ({
      rejected: { statusCode: 500, errorCode: 'InternalFailure', errorMessage: err.message },
    }));
    if ('rejected' in answer)
      this.opts.log?.(`provisioning: ${clientId} refused on ${topic}: ${answer.rejected.errorMessage}`);
    const to = 'rejected' in answer ? provisioningTopics.rejected(topic) : provisioningTopics.accepted(topic);
    await this.opts.reply(clientId, to, JSON.stringify('rejected' in answer ? answer.rejected : answer.accepted));
  }

  private async answer(
    topic: string,
    payload: Buffer,
    clientId: string,
  ): Promise<{ accepted: object } | { rejected: Rejection }> {
    this.prune();
    const body = parseObject(payload);
    if (!body) return rejected(400, 'InvalidPayload', 'the payload is not a JSON object');
    if (topic === provisioningTopics.createFromCsr) {
      if (!this.takeCsrToken(clientId)) {
        return rejected(
          429,
          'ThrottlingException',
          `${clientId}: at most ${CSR_BURST} certificates at once, then one each ${CSR_REFILL_MS / 1000} s`,
        );
      }
      return this.createFromCsr(body);
    }
    const template = parseProvisionTopic(topic);
    if (template !== this.opts.templateName)
      return rejected(404, 'ResourceNotFound', `no provisioning template ${template}`);
    return this.registerThing(body);
  }

  private async createFromCsr(body: Record<string, unknown>): Promise<{ accepted: object } | { rejected: Rejection }> {
    const csr = body.certificateSigningRequest;
    if (typeof csr !== 'string' || !csr.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
      return rejected(
        400,
        'InvalidPayload',
        'certificateSigningRequest: a PEM certificate signing request is required',
      );
    }
    const signed = await this.opts.ca.fromCsr(csr).catch(() => undefined);
    if (!signed) return rejected(400, 'InvalidCsr', 'certificateSigningRequest: not a valid, self-signed CSR');
    const certificateOwnershipToken = randomBytes(32).toString('base64');
    this.tokens.set(certificateOwnershipToken, {
      certificateId: signed.record.certificateId,
      expiresAt: this.now() + TOKEN_TTL_MS,
    });
    return {
      accepted: {
        certificateId: signed.record.certificateId,
        certificatePem: signed.certificatePem,
        certificateOwnershipToken,
      },
    };
  }

  private async registerThing(body: Record<string, unknown>): Promise<{ accepted: object } | { rejected: Rejection }> {
    // taken before anything is awaited: a token is good for one RegisterThing, whatever its outcome
    const key = typeof body.certificateOwnershipToken === 'string' ? body.certificateOwnershipToken : undefined;
    const token = key === undefined ? undefined : this.tokens.get(key);
    if (key !== undefined) this.tokens.delete(key);
    if (!token || token.expiresAt <= this.now())
      return rejected(400, 'InvalidCertificateOwnershipToken', 'certificateOwnershipToken: unknown, used or expired');
    const parameters = (body.parameters ?? {}) as Record<string, string>;
    const hook = await preProvisioningHook({ parameters, certificateId: token.certificateId }, this.opts.allowList);
    if (!hook.allowProvisioning) {
      this.opts.ca.registry.remove([token.certificateId]);
      return rejected(403, 'AccessDenied', `the pre-provisioning hook refused: ${hook.reason}`);
    }
    const thingName = parameters[SERIAL_PARAMETER]!;
    this.opts.ca.registry.update(token.certificateId, { thingName, status: 'ACTIVE' });
    this.opts.log?.(`provisioning: ${thingName} registered with certificate ${token.certificateId}`);
    return { accepted: { thingName, deviceConfiguration: {} } };
  }

  /** One CreateCertificateFromCsr of this connection's bucket, if it has one left. */
  private takeCsrToken(clientId: string): boolean {
    const t = this.now();
    const bucket = this.csrBuckets.get(clientId) ?? { tokens: CSR_BURST, at: t };
    bucket.tokens = Math.min(CSR_BURST, bucket.tokens + (t - bucket.at) / CSR_REFILL_MS);
    bucket.at = t;
    this.csrBuckets.set(clientId, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  /** Drops expired tokens with the certificates they were issued for (never registered), and full buckets. */
  private prune(): void {
    const t = this.now();
    const expired: string[] = [];
    for (const [key, token] of this.tokens) {
      if (token.expiresAt > t) continue;
      this.tokens.delete(key);
      if (this.opts.ca.registry.get(token.certificateId)?.status === 'PENDING_ACTIVATION')
        expired.push(token.certificateId);
    }
    this.opts.ca.registry.remove(expired);
    for (const [clientId, bucket] of this.csrBuckets) {
      if (bucket.tokens + (t - bucket.at) / CSR_REFILL_MS >= CSR_BURST) this.csrBuckets.delete(clientId);
    }
  }
}

const rejected = (statusCode: number, errorCode: string, errorMessage: string) => ({
  rejected: { statusCode, errorCode, errorMessage },
});

function parseObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
