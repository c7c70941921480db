// The agent's check of a job against its release's signed manifest, and the version order it refuses to go back in.
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AGENT_UPDATE_OPERATION,
  compareVersions,
  manifestText,
  type AgentUpdateDocument,
} from '../../../lambdas/core/contracts/agent-update.js';
import { checkManifest } from '../../../device/update/artifact.js';

const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const SHA = 'a'.repeat(64);

function documentFor(
  version: string,
  opts: { rollback?: boolean; jobVersion?: string; key?: typeof keys.privateKey; manifest?: string } = {},
): AgentUpdateDocument {
  const manifest =
    opts.manifest ?? manifestText({ version, file: 'agent.mjs', sha256: SHA, rollback: opts.rollback ?? false });
  const signed = manifestText({ version, file: 'agent.mjs', sha256: SHA, rollback: opts.rollback ?? false });
  return {
    operation: AGENT_UPDATE_OPERATION,
    version: opts.jobVersion ?? version,
    url: 'http://127.0.0.1/releases/x.mjs',
    sha256: SHA,
    signature: sign(null, Buffer.from('file'), keys.privateKey).toString('base64'),
    manifest,
    manifest_signature: sign(null, Buffer.from(signed), opts.key ?? keys.privateKey).toString('base64'),
  };
}

describe('compareVersions', () => {
  it('orders release versions numerically, a prerelease below its release, and cannot order a dev build', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0', '1.2.0')).toBeLessThan(0);
    expect(compareVersions('2.0.0', '2.0.0+build.7')).toBe(0);
    expect(compareVersions('2.0.0-rc.1', '2.0.0')).toBeLessThan(0);
    expect(compareVersions('2.0.0-rc.10', '2.0.0-rc.9')).toBeGreaterThan(0);
    expect(compareVersions('2.0.0-alpha', '2.0.0-1')).toBeGreaterThan(0);
    expect(compareVersions('dev', '1.0.0')).toBeUndefined();
  });
});

describe('checkManifest', () => {
  const running = '1.2.0';
  const problem = (doc: AgentUpdateDocument, run = running) => {
    const r = checkManifest(doc, run, keys.publicKey);
    return 'problem' in r ? r.problem : undefined;
  };

  it('takes a higher version, and a lower one only when the manifest is signed as a rollback', () => {
    expect(problem(documentFor('1.3.0'))).toBeUndefined();
    expect(problem(documentFor('1.0.0'))).toBe(
      'version 1.0.0 is older than the running 1.2.0 and its signed manifest is not a rollback',
    );
    expect(problem(documentFor('1.0.0', { rollback: true }))).toBeUndefined();
    expect(problem(documentFor('1.0.0'), 'dev')).toBeUndefined();
  });

  it('refuses a job labelled with another version than its manifest, a manifest edited or signed by another key, and none', () => {
    expect(problem(documentFor('1.0.0', { jobVersion: '9.9.9' }))).toBe(
      "job version 9.9.9 is not the signed manifest's 1.0.0",
    );
    const edited = manifestText({ version: '1.0.0', file: 'agent.mjs', sha256: SHA, rollback: true });
    expect(problem(documentFor('1.0.0', { manifest: edited }))).toBe(
      'manifest signature does not verify with the release key',
    );
    expect(problem(documentFor('1.3.0', { key: other.privateKey }))).toBe(
      'manifest signature does not verify with the release key',
    );
    expect(problem({ ...documentFor('1.3.0'), sha256: 'b'.repeat(64) })).toBe(
      "job sha256 is not the signed manifest's (1.3.0)",
    );
    const { manifest: _m, manifest_signature: _s, ...bare } = documentFor('1.3.0');
    expect(problem(bare)).toBe('no signed manifest in the job document');
  });
});
