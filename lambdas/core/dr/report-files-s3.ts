// The event reports in S3: one object per event (`events/<eventId>/report.csv`, SSE-S3 by the bucket's default), put
// streamed with its length known up front (a single PUT: the settling function needs s3:PutObject alone), read
// through a presigned GET (the API needs s3:GetObject alone, and reads nothing itself).
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { reportFilename, reportKey, type ReportFiles } from './report-files.js';

/** Lines are sent in pieces of about this many bytes. */
const PIECE_BYTES = 256 * 1024;

export class S3ReportFiles implements ReportFiles {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(eventId: string, lines: () => Iterable<string>) {
    let bytes = 0;
    for (const line of lines()) bytes += Buffer.byteLength(line);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: reportKey(eventId),
        Body: Readable.from(pieces(lines())),
        ContentLength: bytes,
        ContentType: 'text/csv; charset=utf-8',
        ContentDisposition: `attachment; filename="${reportFilename(eventId)}"`,
      }),
    );
    return { bytes };
  }

  async link(eventId: string, expiresInSec: number) {
    const signedAt = this.now();
    const url = await getSignedUrl(
      this.client,
      new GetObjectCommand({ Bucket: this.bucket, Key: reportKey(eventId) }),
      {
        expiresIn: expiresInSec,
        signingDate: new Date(signedAt),
      },
    );
    return { url, expiresAt: new Date(Math.floor(signedAt / 1000) * 1000 + expiresInSec * 1000).toISOString() };
  }
}

function* pieces(lines: Iterable<string>): Generator<Buffer> {
  let batch: string[] = [];
  let size = 0;
  for (const line of lines) {
    batch.push(line);
    size += line.length;
    if (size >= PIECE_BYTES) {
      yield Buffer.from(batch.join(''));
      batch = [];
      size = 0;
    }
  }
  if (batch.length) yield Buffer.from(batch.join(''));
}
