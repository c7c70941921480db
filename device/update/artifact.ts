// Fetching and checking an agent release: its bytes must hash to the job's sha256 and carry the release key's
// Ed25519 signature, whatever the URL (a presigned S3 URL in AWS, the local stack's /releases/ over loopback).
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import {
  agentManifestSchema,
  compareVersions,
  type AgentManifest,
  type AgentUpdateDocument,
} from '../../lambdas/core/contracts/agent-update.js';
import { parse } from '../../lambdas/core/contracts/schemas.js';

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
export function artifactProblem(
  bytes: Buffer,
  expected: { sha256: string; signature: string },
  key: KeyObject,
): string | undefined {
  const actual = sha256Hex(bytes);
  if (actual !== expected.sha256) return `sha256 mismatch: got ${actual}`;
  if (!verify(null, bytes, key, Buffer.from(expected.signature, 'base64')))
    return 'signature does not verify with the release key';
  return undefined;
}

/**
 * The job's release as its signed manifest describes it, or why it is refused: no manifest or a signature that does
 * not verify, a job whose version or sha256 differs from the manifest's (a mislabelled job), or a version below the
 * running one that the manifest does not sign as a rollback.
 */
export function checkManifest(
  doc: AgentUpdateDocument,
  running: string,
  key: KeyObject,
): { manifest: AgentManifest } | { problem: string } {
  if (doc.manifest === undefined || doc.manifest_signature === undefined)
    return { problem: 'no signed manifest in the job document' };
  if (!verify(null, Buffer.from(doc.manifest, 'utf8'), key, Buffer.from(doc.manifest_signature, 'base64'))) {
    return { problem: 'manifest signature does not verify with the release key' };
  }
  let json: unknown;
  try {
    json = JSON.parse(doc.manifest);
  } catch {
    return { problem: 'manifest is not JSON' };
  }
  const parsed = parse(agentManifestSchema, json);
  if (!parsed.ok) return { problem: `manifest ${parsed.message}` };
  const manifest = parsed.value;
  if (manifest.version !== doc.version)
    return { problem: `job version ${doc.version} is not the signed manifest's ${manifest.version}` };
  if (manifest.sha256 !== doc.sha256)
    return { problem: `job sha256 is not the signed manifest's (${manifest.version})` };
  const order = compareVersions(manifest.version, running);
  if (order !== undefined && order < 0 && !manifest.rollback) {
    return {
      problem: `version ${manifest.version} is older than the running ${running} and its signed manifest is not a rollback`,
    };
  }
  return { manifest };
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
