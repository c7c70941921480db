// Fetching and checking an agent release: its bytes must hash to the job's sha256 and carry the release key's
// Ed25519 signature, whatever the URL (a presigned S3 URL in AWS, the local stack's /releases/ over loopback).
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/** A bundled agent is about 1.3 MB; anything far larger is not one. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function releaseKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the release key must be an Ed25519 public key');
  return key;
}

export const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Why the bytes are not the release the job names, or undefined when they are. */
export function artifactProblem(bytes: Buffer, expected: { sha256: string; signature: string }, key: KeyObject): string | undefined {
  const actual = sha256Hex(bytes);
  if (actual !== expected.sha256) return `sha256 mismatch: got ${actual}`;
  if (!verify(null, bytes, key, Buffer.from(expected.signature, 'base64'))) return 'signature does not verify with the release key';
  return undefined;
}

/** https anywhere; http only to this machine. */
export function urlProblem(url: string): string | undefined {
  const u = new URL(url);
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return undefined;
  return `refusing ${u.protocol}//${u.hostname}: artifacts come over https (plain http only from a loopback host)`;
}

export async function download(url: string, timeoutMs = 120_000): Promise<Buffer> {
  const problem = urlProblem(url);
  if (problem) throw new Error(problem);
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  if (!res.ok || !res.body) throw new Error(`download failed: HTTP ${res.status}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_ARTIFACT_BYTES) throw new Error(`download over ${MAX_ARTIFACT_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
