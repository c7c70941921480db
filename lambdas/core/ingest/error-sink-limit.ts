// Refusals from one device are rate-limited: a misbehaving device cannot flood the dead-letter queue, the refusal
// log or the local file (one device wrote 37 MB in 5 s). What is held back is counted and reported on the device's
// next refusal that gets through (`suppressed`), so nothing is lost from the record but the repetition.
import type { ErrorSink, Rejection } from './ingest-ports.js';

export interface ErrorSinkLimit {
  /** Refusals per second per device, sustained. @default 5 */
  readonly perSecond?: number;
  /** Refusals a device may send at once. @default 20 */
  readonly burst?: number;
  /** Devices tracked at once; the least recently refused is forgotten first. @default 10,000 */
  readonly devices?: number;
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
}

export function limitErrorSink(inner: ErrorSink, limit: ErrorSinkLimit = {}): ErrorSink {
  const { perSecond = 5, burst = 20, devices = 10_000, now = Date.now } = limit;
  const buckets = new Map<string, Bucket>();
  return {
    async reject(rejection: Rejection) {
      const key = rejection.clientId ?? '(unknown)';
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t, suppressed: 0 };
      buckets.delete(key); // re-inserted last: Map order is recency
      buckets.set(key, bucket);
      if (buckets.size > devices) buckets.delete(buckets.keys().next().value!);
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
      bucket.at = t;
      if (bucket.tokens < 1) {
        bucket.suppressed++;
        return;
      }
      bucket.tokens--;
      const suppressed = bucket.suppressed;
      bucket.suppressed = 0;
      await inner.reject(suppressed ? { ...rejection, suppressed } : rejection);
    },
  };
}
