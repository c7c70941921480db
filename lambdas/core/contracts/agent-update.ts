// IoT Jobs for agent updates, defined once: the job document the CLI and the job template write and the agent takes,
// and the job execution as the Jobs service hands it to a device (AWS IoT Jobs' MQTT API).
import * as z from 'zod';

export const AGENT_UPDATE_OPERATION = 'agent-update';

/** Ed25519 signatures are 64 bytes: 88 characters of base64. */
const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

const version = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/, 'must be 1-64 characters of 0-9 A-Z a-z . + _ -');
/** What a release version looks like: MAJOR.MINOR.PATCH, an optional -prerelease and +build. */
export const RELEASE_VERSION = /^(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * A release's manifest, signed whole with the release key: the version and the file's sha256 together, so a job
 * cannot name one version and ship another's bytes. An agent never goes to a lower version unless `rollback` is signed.
 */
export const agentManifestSchema = z
  .object({
    version: version.regex(RELEASE_VERSION, 'must be MAJOR.MINOR.PATCH'),
    file: z.literal('agent.mjs'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
    /** Signed on purpose to take a fleet back to this (lower) version. */
    rollback: z.boolean(),
  })
  .strict();
export type AgentManifest = z.infer<typeof agentManifestSchema>;

/** The manifest as signed: its JSON, keys in this order. */
export const manifestText = (m: AgentManifest) =>
  JSON.stringify({ version: m.version, file: m.file, sha256: m.sha256, rollback: m.rollback });

/** Release versions compared (semver precedence); undefined when either is not one (a `dev` build from source). */
export function compareVersions(a: string, b: string): number | undefined {
  const x = RELEASE_VERSION.exec(a);
  const y = RELEASE_VERSION.exec(b);
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) if (Number(x[i]) !== Number(y[i])) return Number(x[i]) - Number(y[i]);
  if (x[4] === y[4]) return 0;
  if (x[4] === undefined) return 1; // a release ranks above its prereleases
  if (y[4] === undefined) return -1;
  const [p, q] = [x[4].split('.'), y[4].split('.')];
  for (let i = 0; i < Math.max(p.length, q.length); i++) {
    if (p[i] === undefined) return -1;
    if (q[i] === undefined) return 1;
    const [m, n] = [/^\d+$/.test(p[i]!) ? Number(p[i]) : NaN, /^\d+$/.test(q[i]!) ? Number(q[i]) : NaN];
    if (p[i] === q[i]) continue;
    if (!Number.isNaN(m) && !Number.isNaN(n)) return m - n;
    if (!Number.isNaN(m)) return -1;
    if (!Number.isNaN(n)) return 1;
    return p[i]! < q[i]! ? -1 : 1;
  }
  return 0;
}

export const agentUpdateDocumentSchema = z.object({
  operation: z.literal(AGENT_UPDATE_OPERATION),
  version,
  /** https (an S3 presigned URL in AWS); plain http only on a loopback host (the local stack). */
  url: z.string().url().max(4096),
  /** Of the bundled agent file, lower-case hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  /** Ed25519 signature of the file by the release key, base64. */
  signature: z.string().regex(BASE64_SIGNATURE, 'must be a base64 Ed25519 signature'),
  /** The release's manifest as signed (manifestText); agents from this version on refuse a document without it. */
  manifest: z.string().max(1024).optional(),
  /** Ed25519 signature of `manifest` (its UTF-8 bytes) by the release key, base64. */
  manifest_signature: z.string().regex(BASE64_SIGNATURE, 'must be a base64 Ed25519 signature').optional(),
});
export type AgentUpdateDocument = z.infer<typeof agentUpdateDocumentSchema>;

/** What a device may set; the Jobs service owns the rest (QUEUED, TIMED_OUT, CANCELED, REMOVED). */
export const DEVICE_JOB_STATUSES = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'] as const;
export const JOB_EXECUTION_STATUSES = ['QUEUED', ...DEVICE_JOB_STATUSES, 'TIMED_OUT', 'CANCELED', 'REMOVED'] as const;
export type JobExecutionStatus = (typeof JOB_EXECUTION_STATUSES)[number];
export const TERMINAL_STATUSES: readonly JobExecutionStatus[] = [
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'TIMED_OUT',
  'CANCELED',
  'REMOVED',
];

/** `statusDetails`: IoT Jobs takes string values only. */
const statusDetails = z.record(z.string().regex(/^[A-Za-z0-9:_-]{1,128}$/), z.string().max(1024));

/** A device's `$aws/things/{thing}/jobs/{jobId}/update` request. */
export const jobUpdateRequestSchema = z.object({
  status: z.enum(DEVICE_JOB_STATUSES),
  statusDetails: statusDetails.optional(),
  expectedVersion: z.number().int().nonnegative().optional(),
  clientToken: z.string().max(64).optional(),
});
export type JobUpdateRequest = z.infer<typeof jobUpdateRequestSchema>;

/** The execution in `$next/get/accepted` and `notify-next`. */
export const jobExecutionSchema = z.object({
  jobId: z.string().min(1).max(64),
  thingName: z.string(),
  status: z.enum(JOB_EXECUTION_STATUSES),
  jobDocument: z.unknown(),
  statusDetails: statusDetails.optional(),
  queuedAt: z.number(),
  lastUpdatedAt: z.number(),
  versionNumber: z.number().int(),
  executionNumber: z.number().int(),
});
export type JobExecution = z.infer<typeof jobExecutionSchema>;

/** Job ids as AWS IoT allows them. */
export const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
