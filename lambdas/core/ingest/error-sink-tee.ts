// Every refusal to the error sink as before, and a copy to the refusal log the operators read. The log is a
// convenience: a failure to write it is logged and swallowed, never the sink's failure (which still throws).
import { logger } from '../common/logger.js';
import type { ErrorSink, RefusalLog, Rejection } from './ingest-ports.js';

export function teeErrorSink(primary: ErrorSink, log: RefusalLog, now: () => number = Date.now): ErrorSink {
  return {
    async reject(rejection: Rejection) {
      const at = now();
      const logged = Promise.resolve()
        .then(() => log.record(rejection, at))
        .catch((err: unknown) => {
          logger.warn('refusal log write failed', {
            reason: rejection.reason,
            topic: rejection.topic,
            error: err as Error,
          });
        });
      try {
        await primary.reject(rejection);
      } finally {
        await logged;
      }
    },
  };
}
