// IoT Jobs for agent updates, defined once: the job document the CLI and the job template write and the agent takes,
// and the job execution as the Jobs service hands it to a device (AWS IoT Jobs' MQTT API).
import * as z from 'zod';

export const AGENT_UPDATE_OPERATION = 'agent-update';

/** Ed25519 signatures are 64 bytes: 88 characters of base64. */
const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

export const agentUpdateDocumentSchema = z.object({
  operation: z.literal(AGENT_UPDATE_OPERATION),
  version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/, 'must be 1-64 characters of 0-9 A-Z a-z . + _ -'),
  /** https (an S3 presigned URL in AWS); plain http only on a loopback host (the local stack). */
  url: z.string().url().max(4096),
  /** Of the bundled agent file, lower-case hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  /** Ed25519 signature of the file by the release key, base64. */
  signature: z.string().regex(BASE64_SIGNATURE, 'must be a base64 Ed25519 signature'),
});
export type AgentUpdateDocument = z.infer<typeof agentUpdateDocumentSchema>;

/** What a device may set; the Jobs service owns the rest (QUEUED, TIMED_OUT, CANCELED, REMOVED). */
export const DEVICE_JOB_STATUSES = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'] as const;
export const JOB_EXECUTION_STATUSES = ['QUEUED', ...DEVICE_JOB_STATUSES, 'TIMED_OUT', 'CANCELED', 'REMOVED'] as const;
export type JobExecutionStatus = (typeof JOB_EXECUTION_STATUSES)[number];
export const TERMINAL_STATUSES: readonly JobExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED', 'REMOVED'];

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
