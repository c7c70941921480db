// A Lambda's environment is a schema: validated once at start-up, failing loudly, typed from then on.
import * as z from 'zod';
import { timeZoneSchema } from '../contracts/programs.js';

export const envSchema = z
  .object({
    DEVICES_TABLE: z.string().min(1),
    EVENTS_TABLE: z.string().min(1),
    COMMANDS_TABLE: z.string().min(1),
    TIMESERIES_BACKEND: z.enum(['timestream', 'dynamodb']),
    TIMESERIES_TABLE: z.string().min(1).optional(),
    TIMESTREAM_DATABASE: z.string().min(1).optional(),
    RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** How long ACK history, fleet events and the ledger are kept (DynamoDB TTL): 2 years by default. */
    ARCHIVE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(730),
    /** The transaction ledger: the ack rule appends command outcomes to it. */
    LEDGER_TABLE: z.string().min(1).optional(),
    ERROR_QUEUE_URL: z.string().url().optional(),
    /** The refusal log beside the dead-letter queue; the rule Lambdas require both. */
    REFUSALS_TABLE: z.string().min(1).optional(),
    /** The rollups: the ingest consumers mark late samples' buckets dirty in it (rollup-pass.ts). */
    ROLLUPS_TABLE: z.string().min(1).optional(),
    /** The portfolio's IANA time zone: the local days and months of the daily and monthly rollups (absent: UTC). */
    PORTFOLIO_TIME_ZONE: timeZoneSchema.optional(),
  })
  .refine((e) => e.TIMESERIES_BACKEND !== 'dynamodb' || e.TIMESERIES_TABLE, {
    message: 'TIMESERIES_TABLE is required with TIMESERIES_BACKEND=dynamodb',
    path: ['TIMESERIES_TABLE'],
  })
  .refine((e) => e.TIMESERIES_BACKEND !== 'timestream' || e.TIMESTREAM_DATABASE, {
    message: 'TIMESTREAM_DATABASE is required with TIMESERIES_BACKEND=timestream',
    path: ['TIMESTREAM_DATABASE'],
  });

export type Env = z.infer<typeof envSchema>;

export function loadEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid Lambda environment: ${detail}`);
  }
  return result.data;
}

/** What the API Lambda needs beside `envSchema`: the inventory, fleet-event, refusal and idempotency tables, the IoT data endpoint. */
export const apiEnvSchema = z.object({
  INVENTORY_TABLE: z.string().min(1),
  FLEET_EVENTS_TABLE: z.string().min(1),
  REFUSALS_TABLE: z.string().min(1),
  /** `Idempotency-Key`s of the command routes. */
  IDEMPOTENCY_TABLE: z.string().min(1),
  /** Node metadata and the transaction ledger (data and persistence layer). */
  METADATA_TABLE: z.string().min(1),
  LEDGER_TABLE: z.string().min(1),
  /** `https://<account>-ats.iot.<region>.amazonaws.com`: shadow reads and command publishes. */
  IOT_DATA_ENDPOINT: z.string().url(),
  /** How long a command waits for its ACK before it is marked `timed-out`. */
  COMMAND_TIMEOUT_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
  /** The stack's device policy, detached from a revoked device's certificates. */
  DEVICE_POLICY_NAME: z.string().min(1),
  /** The event reports' bucket: the API presigns downloads of them. */
  REPORTS_BUCKET: z.string().min(1),
  /** DR programs. */
  PROGRAMS_TABLE: z.string().min(1),
});
export type ApiEnv = z.infer<typeof apiEnvSchema>;

/** The Winter River controller (the winter-river rule) and the system route of the API. */
export const powerEnvSchema = z.object({
  POWER_SYSTEM_TABLE: z.string().min(1),
  /** The topology file's content as JSON (lib/power-system-topology.ts reads and checks it at synth). */
  WINTER_RIVER_TOPOLOGY: z.string().min(2),
});
export type PowerEnv = z.infer<typeof powerEnvSchema>;

/**
 * The housekeeping sweep (lambdas/command-timeouts) beside `envSchema`: the ledger it records time-outs and
 * settlements in, the fleet events it settles, and the metadata their tariffs are in.
 */
export const housekeepingEnvSchema = z.object({
  LEDGER_TABLE: z.string().min(1),
  FLEET_EVENTS_TABLE: z.string().min(1),
  METADATA_TABLE: z.string().min(1),
  /** Where a settled event's report CSV is written. */
  REPORTS_BUCKET: z.string().min(1),
  /** `https://<account>-ats.iot.<region>.amazonaws.com`: a scheduled event's commands, published at its start. */
  IOT_DATA_ENDPOINT: z.string().url(),
  /** How long a scheduled event's commands wait for their ACKs. */
  COMMAND_TIMEOUT_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
});

/** The rollup pass (lambdas/rollups): what it reads (time series, registry, inventory) and the rollups it writes. */
export const rollupsEnvSchema = z.object({
  ROLLUPS_TABLE: z.string().min(1),
  INVENTORY_TABLE: z.string().min(1),
});

/** Validates a Lambda's environment against `schema`; fails loudly naming every missing or bad variable. */
export function loadEnvOf<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid Lambda environment: ${detail}`);
  }
  return result.data;
}

/** The IoT custom authorizer of the operators' live feed (lambdas/iot-authorizer). */
export const iotAuthorizerEnvSchema = z.object({
  /** The operators' user pool and the dashboard's app client: the only tokens the live feed accepts. */
  USER_POOL_ID: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/),
  USER_POOL_CLIENT_ID: z.string().min(1),
  /** `arn:<partition>:iot:<region>:<account>`, the prefix of the policy's resources. */
  IOT_ARN_PREFIX: z.string().startsWith('arn:'),
});
export type IotAuthorizerEnv = z.infer<typeof iotAuthorizerEnvSchema>;
