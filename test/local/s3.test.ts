// The local S3 endpoint against the real @aws-sdk/client-s3 and @aws-sdk/s3-request-presigner: a streamed PutObject
// (aws-chunked with its CRC32 trailer), GetObject and HeadObject, and presigned GETs refused as S3 refuses them.
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type LocalS3 } from '../../bin/local/aws/s3.js';

const credentials = { accessKeyId: 'AKIALOCALS3TEST', secretAccessKey: 'local-secret' };
let dir: string;
let s3: LocalS3;
/** How far the endpoint's clock runs ahead of this machine's (a link made now is judged later). */
let ahead = 0;
let client: S3Client;
const BUCKET = 'vpp-reports';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-s3-'));
  s3 = await startS3({
    dir,
    host: '127.0.0.1',
    port: 0,
    buckets: [BUCKET],
    credentials,
    region: 'us-east-1',
    now: () => Date.now() + ahead,
  });
  client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials });
});
afterAll(async () => {
  client?.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const rows = (n: number) => Array.from({ length: n }, (_, i) => `ven,ven-${i},"a ""quoted"" cell",${i * 0.5}\r\n`);

describe('objects', () => {
  it('are put streamed, read back byte for byte, and headed', async () => {
    const lines = rows(20_000);
    const expected = lines.join('');
    const body = Readable.from(
      (function* () {
        for (const l of lines) yield Buffer.from(l);
      })(),
    );
    const put = await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'events/evt-1/report.csv',
        Body: body,
        ContentLength: Buffer.byteLength(expected),
        ContentType: 'text/csv; charset=utf-8',
      }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'events/evt-1/report.csv' }));
    expect(got.ContentType).toBe('text/csv; charset=utf-8');
    expect(await got.Body!.transformToString()).toBe(expected);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'events/evt-1/report.csv' }));
    expect(head).toMatchObject({
      ContentLength: Buffer.byteLength(expected),
      ETag: put.ETag,
      ServerSideEncryption: 'AES256',
    });
    // stored on disk under the folder given, not in memory
    expect((await readdir(join(dir, BUCKET))).some((f) => f.endsWith('.object'))).toBe(true);
  });

  it('take a small body with a signed payload hash; odd keys stay apart', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/../b c+d.txt', Body: 'one' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'b c+d.txt', Body: 'two' }));
    const read = async (Key: string) =>
      (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToString();
    expect([await read('a/../b c+d.txt'), await read('b c+d.txt')]).toEqual(['one', 'two']);
  });

  it('that are missing are NoSuchKey; another bucket is NoSuchBucket; a wrong secret is SignatureDoesNotMatch', async () => {
    await expect(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'nope' }))).rejects.toBeInstanceOf(NoSuchKey);
    await expect(client.send(new GetObjectCommand({ Bucket: 'other', Key: 'x' }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
    const wrong = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { ...credentials, secretAccessKey: 'guess' },
    });
    const err = await wrong
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b c+d.txt' }))
      .catch((e: S3ServiceException) => e);
    expect(err).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    wrong.destroy();
  });
});

describe('a presigned GET', () => {
  const presign = (expiresIn = 300) =>
    getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'events/evt-1/report.csv',
        ResponseContentDisposition: 'attachment; filename="evt-1.csv"',
      }),
      { expiresIn },
    );
  const error = async (res: Response) => ({
    status: res.status,
    code: /<Code>(.*?)<\/Code>/.exec(await res.text())?.[1],
  });

  it('downloads the object with no credentials, as a file named by the link', async () => {
    const res = await fetch(await presign());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="evt-1.csv"');
    expect(await res.text()).toBe(rows(20_000).join(''));
  });

  it('is refused 403 once expired, and 403 when tampered with; unsigned is 403 too', async () => {
    const url = await presign(60);
    ahead = 61_000;
    try {
      const res = await fetch(url);
      const text = await res.text();
      expect(res.status).toBe(403);
      expect(text).toContain(
        '<Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>60</X-Amz-Expires>',
      );
    } finally {
      ahead = 0;
    }
    const fresh = new URL(await presign());
    expect((await fetch(fresh)).status).toBe(200);
    const tampered = [
      fresh.href.replace('evt-1/report.csv', 'evt-2/report.csv'),
      fresh.href.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000'),
      fresh.href.replace(/filename%3D%22evt-1.csv%22/, 'filename%3D%22x.exe%22'),
      fresh.href.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`),
    ];
    for (const url of tampered)
      expect(await error(await fetch(url))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await error(await fetch(fresh.href.replace('X-Amz-Expires=300', 'X-Amz-Expires=604801')))).toEqual({
      status: 400,
      code: 'AuthorizationQueryParametersError',
    });
    expect(await error(await fetch(`${s3.endpoint}/${BUCKET}/events/evt-1/report.csv`))).toEqual({
      status: 403,
      code: 'AccessDenied',
    });
  });
});
