// A minimal S3 endpoint for the local stack: PutObject, GetObject and HeadObject on path-style URLs
// (`/{bucket}/{key}`), enough for the real @aws-sdk/client-s3 and @aws-sdk/s3-request-presigner. Objects live on disk
// under the stack's folder, one file per object and its metadata beside it. Every request is signed as S3 wants it:
// SigV4 in the Authorization header (the SDK), or in the query string (a presigned URL: refused once it has expired or
// was changed, 403 as S3 answers). Not modelled: ranges, versions, multipart uploads, listing, bucket policies.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { verifyPresigned, verifySigV4, type VerifyResult } from './sigv4.js';

export interface LocalS3Options {
  /** Where the objects are stored: one folder per bucket. */
  readonly dir: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The buckets that exist; any other is NoSuchBucket. */
  readonly buckets: readonly string[];
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  /** Epoch milliseconds (tests move the clock to expire a link). */
  readonly now?: () => number;
}

export interface LocalS3 {
  /** `http://host:port`: the client's `endpoint`, with `forcePathStyle: true`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

interface ObjectMeta {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly contentType: string;
  readonly contentDisposition?: string;
}

/** A single PUT of at most 5 GB, as S3 takes it. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;

export async function startS3(opts: LocalS3Options): Promise<LocalS3> {
  for (const bucket of opts.buckets) await mkdir(join(opts.dir, bucket), { recursive: true, mode: 0o700 });
  const server: Server = createServer((req, res) => {
    handle(req, res, opts).catch((err: Error) => {
      if (!res.headersSent) sendError(res, req, 500, 'InternalError', err.message);
      else res.destroy(err);
    });
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${opts.host}:${port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: LocalS3Options) {
  const url = req.url ?? '/';
  const path = url.split('?')[0]!;
  const slash = path.indexOf('/', 1);
  const bucket = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash));
  const key = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
  const query = new URL(url, 'http://s3.local').searchParams;
  const presigned = query.has('X-Amz-Algorithm') || query.has('X-Amz-Signature');
  const streaming = req.headers['x-amz-content-sha256'] === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  // a signed payload hash needs the body before the signature can be checked; other bodies stream to disk afterwards
  const body = !presigned && req.method === 'PUT' && !streaming ? await readAll(req) : Buffer.alloc(0);
  if (body.length > MAX_PUT_BYTES)
    return sendError(res, req, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');

  const signed = { method: req.method ?? 'GET', url, headers: req.headersDistinct, body };
  const verify = { credentials: opts.credentials, region: opts.region, service: 's3', now: (opts.now ?? Date.now)() };
  const auth: VerifyResult = presigned
    ? verifyPresigned(signed, verify)
    : req.headers.authorization
      ? verifySigV4(signed, verify)
      : { ok: false, code: 'AccessDenied', message: 'Access Denied' };
  if (!auth.ok) {
    const status =
      auth.code === 'AuthorizationQueryParametersError' || auth.code === 'AuthorizationHeaderMalformed' ? 400 : 403;
    const extra = auth.message === 'Request has expired' ? expiredDetail(query, verify.now) : {};
    return sendError(res, req, status, auth.code, auth.message, extra);
  }
  if (!opts.buckets.includes(bucket))
    return sendError(res, req, 404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  if (!key)
    return sendError(res, req, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  const files = objectFiles(opts.dir, bucket, key);
  switch (req.method) {
    case 'PUT':
      if (presigned) return sendError(res, req, 403, 'AccessDenied', 'Access Denied');
      return putObject(req, res, files, key, streaming ? undefined : body);
    case 'GET':
    case 'HEAD':
      return getObject(req, res, files, query, presigned);
    default:
      return sendError(res, req, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
}

/** Object files by the key's hash: any key (slashes, dots, 1,024 bytes) is one safe file name. */
function objectFiles(dir: string, bucket: string, key: string) {
  const name = createHash('sha256').update(key).digest('hex');
  return { data: join(dir, bucket, `${name}.object`), meta: join(dir, bucket, `${name}.json`) };
}

async function putObject(
  req: IncomingMessage,
  res: ServerResponse,
  files: ReturnType<typeof objectFiles>,
  key: string,
  body: Buffer | undefined,
) {
  const partial = `${files.data}.${randomUUID()}.part`;
  const md5 = createHash('md5');
  let size = 0;
  let trailer: Record<string, string> = {};
  try {
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        md5.update(chunk);
        done(size > MAX_PUT_BYTES ? new Error('EntityTooLarge') : null, chunk);
      },
    });
    if (body)
      await pipeline(
        async function* () {
          yield body;
        },
        count,
        createWriteStream(partial),
      );
    else {
      const decoder = new AwsChunkedDecoder();
      await pipeline(req, decoder, count, createWriteStream(partial));
      trailer = decoder.trailer;
    }
    const declared = Number(req.headers['x-amz-decoded-content-length'] ?? size);
    if (!body && declared !== size) {
      return sendError(
        res,
        req,
        400,
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header.',
      );
    }
    const crc = trailer['x-amz-checksum-crc32'] ?? (req.headers['x-amz-checksum-crc32'] as string | undefined);
    if (crc !== undefined && crc !== (await crc32Of(partial))) {
      return sendError(res, req, 400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    }
    const meta: ObjectMeta = {
      key,
      size,
      etag: `"${md5.digest('hex')}"`,
      lastModified: new Date().toUTCString(),
      contentType: (req.headers['content-type'] as string | undefined) ?? 'binary/octet-stream',
      ...(req.headers['content-disposition'] && { contentDisposition: req.headers['content-disposition'] as string }),
    };
    await rename(partial, files.data);
    await writeFile(files.meta, JSON.stringify(meta));
    res.writeHead(200, {
      etag: meta.etag,
      'x-amz-server-side-encryption': 'AES256',
      ...(crc && { 'x-amz-checksum-crc32': crc }),
    });
    res.end();
  } catch (err) {
    if ((err as Error).message === 'EntityTooLarge')
      return sendError(
        res,
        req,
        400,
        'EntityTooLarge',
        'Your proposed upload exceeds the maximum allowed object size.',
      );
    throw err;
  } finally {
    await rm(partial, { force: true });
  }
}

async function getObject(
  req: IncomingMessage,
  res: ServerResponse,
  files: ReturnType<typeof objectFiles>,
  query: URLSearchParams,
  signed: boolean,
) {
  if (!existsSync(files.meta)) return sendError(res, req, 404, 'NoSuchKey', 'The specified key does not exist.');
  const meta = JSON.parse(await readFile(files.meta, 'utf8')) as ObjectMeta;
  const { size } = await stat(files.data);
  // response-* overrides are honoured on signed requests only, as S3 does (every request here is signed)
  const disposition = (signed && query.get('response-content-disposition')) || meta.contentDisposition;
  res.writeHead(200, {
    'content-type': (signed && query.get('response-content-type')) || meta.contentType,
    'content-length': String(size),
    etag: meta.etag,
    'last-modified': meta.lastModified,
    'accept-ranges': 'bytes',
    'x-amz-server-side-encryption': 'AES256',
    ...(disposition && { 'content-disposition': disposition }),
  });
  if (req.method === 'HEAD') return res.end();
  await pipeline(createReadStream(files.data), res);
}

function expiredDetail(query: URLSearchParams, now: number): Record<string, string> {
  const date = query.get('X-Amz-Date') ?? '';
  const start = Date.parse(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const expires = Number(query.get('X-Amz-Expires'));
  return {
    'X-Amz-Expires': String(expires),
    Expires: new Date(start + expires * 1000).toISOString(),
    ServerTime: new Date(now).toISOString(),
  };
}

/** S3's XML error body; a HEAD gets the status alone, as from S3. */
function sendError(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
) {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const fields = { Code: code, Message: message, ...extra, RequestId: requestId };
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${Object.entries(fields)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('')}</Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId });
  res.end(req.method === 'HEAD' ? undefined : xml);
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function crc32Of(file: string): Promise<string> {
  let crc = 0;
  for await (const chunk of createReadStream(file)) crc = crc32(chunk as Buffer, crc);
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0);
  return bytes.toString('base64');
}

/**
 * `Content-Encoding: aws-chunked` with an unsigned payload and a checksum trailer, as the SDK streams a body of known
 * length: `<hex size>\r\n<data>\r\n` … `0\r\n<trailer lines>\r\n\r\n`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).
 */
class AwsChunkedDecoder extends Transform {
  readonly trailer: Record<string, string> = {};
  private buffer: Buffer = Buffer.alloc(0);
  private remaining = -1; // bytes of data left in the current chunk; -1: a size line comes next
  private done = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      this.drain();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback) {
    callback(this.done ? null : new Error('aws-chunked body ended before its last chunk'));
  }

  private drain() {
    for (;;) {
      if (this.done) {
        const end = this.buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 2);
        const colon = line.indexOf(':');
        if (colon > 0) this.trailer[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        continue;
      }
      if (this.remaining < 0) {
        const end = this.buffer.indexOf('\r\n');
        if (end < 0) return;
        const size = parseInt(this.buffer.subarray(0, end).toString('latin1').split(';')[0]!, 16);
        if (!Number.isFinite(size) || size < 0) throw new Error('malformed aws-chunked size line');
        this.buffer = this.buffer.subarray(end + 2);
        if (size === 0) this.done = true;
        else this.remaining = size;
        continue;
      }
      if (this.remaining > 0) {
        if (this.buffer.length === 0) return;
        const take = Math.min(this.remaining, this.buffer.length);
        this.push(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        this.remaining -= take;
        if (this.remaining > 0) return;
      }
      if (this.buffer.length < 2) return;
      this.buffer = this.buffer.subarray(2); // the CRLF after a chunk's data
      this.remaining = -1;
    }
  }
}
