// The local error sink: one JSON line per refused message in `.vpp/errors.jsonl` (the SQS DLQ in AWS).
import { appendFile } from 'node:fs/promises';
import type { ErrorSink, Rejection } from '../../lambdas/core/ports.js';

export class FileErrorSink implements ErrorSink {
  constructor(readonly file: string) {}

  async reject(rejection: Rejection): Promise<void> {
    await appendFile(this.file, `${JSON.stringify({ at: new Date().toISOString(), ...rejection })}\n`, { mode: 0o600 });
  }
}
