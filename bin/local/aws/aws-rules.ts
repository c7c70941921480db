// What the local stack holds of AWS's behaviour beyond the wire API, from the environment: DynamoDB's eventual
// consistency (always on, as in AWS) and a fault mode (off unless asked for) in which DynamoDB leaves batch items
// unprocessed and throttles, and Kinesis fails records of a PutRecords and throttles GetRecords. Every fault is decided
// by a seeded hash of the request's content and how often that content was seen, not by timing: a seed replays a run.
// This module also runs inside the emulators' worker threads (bundled): it imports nothing but Node.

export interface FaultRates {
  /** Share of DynamoDB data-plane calls answered ProvisionedThroughputExceededException (400). */
  readonly dynamodbThrottle: number;
  /** Share of the items of a BatchWriteItem / keys of a BatchGetItem returned unprocessed (never all of them). */
  readonly unprocessed: number;
  /** Share of the records of a Kinesis PutRecords failed with ProvisionedThroughputExceededException. */
  readonly kinesisRecordFailure: number;
  /** Share of Kinesis GetRecords calls answered ProvisionedThroughputExceededException (400). */
  readonly kinesisThrottle: number;
}

export interface AwsRules {
  /** How long a DynamoDB write stays invisible to eventually consistent reads and index queries; 0 turns it off. */
  readonly lagMs: number;
  readonly faults?: FaultRates & { readonly seed: number };
}

/** Near what DynamoDB shows: AWS says a write is usually seen by every copy "within one second". */
export const DEFAULT_LAG_MS = 300;

export const DEFAULT_FAULT_RATES: FaultRates = {
  dynamodbThrottle: 0.02,
  unprocessed: 0.2,
  kinesisRecordFailure: 0.1,
  kinesisThrottle: 0.05,
};

/** `VPP_DYNAMODB_LAG_MS` (default 300), `VPP_AWS_FAULTS=1` (off by default), `VPP_AWS_FAULTS_SEED` (default 1). */
export function awsRulesFromEnv(env: NodeJS.ProcessEnv = process.env): AwsRules {
  const lag = env.VPP_DYNAMODB_LAG_MS;
  const lagMs = lag === undefined || lag === '' ? DEFAULT_LAG_MS : Number(lag);
  if (!Number.isInteger(lagMs) || lagMs < 0)
    throw new Error(`VPP_DYNAMODB_LAG_MS: not a whole number of milliseconds ≥ 0: ${lag}`);
  const faults = env.VPP_AWS_FAULTS;
  if (faults !== undefined && faults !== '' && faults !== '0' && faults !== '1')
    throw new Error(`VPP_AWS_FAULTS: 1 or 0, not ${faults}`);
  if (faults !== '1') return { lagMs };
  const seed = Number(env.VPP_AWS_FAULTS_SEED ?? 1);
  if (!Number.isInteger(seed)) throw new Error(`VPP_AWS_FAULTS_SEED: not a whole number: ${env.VPP_AWS_FAULTS_SEED}`);
  return { lagMs, faults: { ...DEFAULT_FAULT_RATES, seed } };
}

/** Seeded, content-keyed decisions: the n-th time the same `what` is asked about, the answer is the same in every run. */
export class FaultDice {
  private readonly seen = new Map<string, number>();

  constructor(private readonly seed: number) {}

  hits(what: string, rate: number): boolean {
    if (rate <= 0) return false;
    if (this.seen.size > 200_000) this.seen.clear();
    const n = this.seen.get(what) ?? 0;
    this.seen.set(what, n + 1);
    return fnv1a(`${this.seed}|${n}|${what}`) / 0x1_0000_0000 < rate;
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // one more mixing round: nearby inputs otherwise give nearby hashes
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
