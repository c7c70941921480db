// The local error sink: one JSON line per refused message in `.vpp/errors.jsonl` (the SQS DLQ in AWS). It never
// fails ingest: a write that fails (full disk, the file gone) is counted and reported, and the file is rotated to
// `errors.jsonl.1` when it reaches its size bound, so the two files together stay under twice that bound.
import { appendFile, rename, stat } from 'node:fs/promises';
import type { ErrorSink, Rejection } from '../../../lambdas/core/ingest/ingest-ports.js';

export interface FileErrorSinkOptions {
  /** @default 10 MiB */
  readonly maxBytes?: number;
  /** Told of each failed write (the local stack logs it). */
  readonly onFailure?: (error: Error) => void;
}

export class FileErrorSink implements ErrorSink {
  /** Refusals that could not be written. */
  failures = 0;
  private size: number | undefined;
  private queue = Promise.resolve();
  private readonly maxBytes: number;

  constructor(
    readonly file: string,
    private readonly options: FileErrorSinkOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  }

  reject(rejection: Rejection): Promise<void> {
    const line = `${JSON.stringify({ at: new Date().toISOString(), ...rejection })}\n`;
    // one append at a time: the size check and the rotation must not interleave
    this.queue = this.queue.then(() => this.append(line));
    return this.queue;
  }

  private async append(line: string): Promise<void> {
    try {
      this.size ??= await stat(this.file).then(
        (s) => s.size,
        () => 0,
      );
      if (this.size > 0 && this.size + line.length > this.maxBytes) {
        await rename(this.file, `${this.file}.1`);
        this.size = 0;
      }
      await appendFile(this.file, line, { mode: 0o600 });
      this.size += Buffer.byteLength(line);
    } catch (err) {
      this.failures++;
      this.size = undefined;
      this.options.onFailure?.(err as Error);
    }
  }
}
