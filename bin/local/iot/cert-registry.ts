// The local stack's certificate registry (`.vpp/certificates.json`), as AWS IoT keeps one: each certificate the local
// CA issues, by its id (the SHA-256 of its DER, as AWS IoT's certificateId), with its status, the thing it is attached
// to and the policy it carries (`device`, or `claim`: only the provisioning topics). The broker reads it on every
// connect, so a certificate `npm run provision` issues while `npm start` runs is known at once.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

/** PENDING_ACTIVATION: issued by CreateCertificateFromCsr, not yet registered to a thing (it connects nowhere). */
export type CertificateStatus = 'ACTIVE' | 'INACTIVE' | 'REVOKED' | 'PENDING_ACTIVATION';
export type CertificatePolicy = 'device' | 'claim';

export interface CertificateRecord {
  readonly certificateId: string;
  readonly status: CertificateStatus;
  readonly policy: CertificatePolicy;
  /** The thing the certificate is attached to; a device certificate without one may not connect. */
  readonly thingName?: string;
  readonly createdAt: string;
}

/** AWS IoT's certificate id: the SHA-256 of the certificate's DER, 64 lower-case hex digits. */
export const certificateIdOf = (pem: string | Buffer): string =>
  new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();

export class CertificateRegistry {
  private cache: { stamp: string; records: Record<string, CertificateRecord> } | undefined;

  constructor(readonly file: string) {}

  get(certificateId: string): CertificateRecord | undefined {
    return this.read()[certificateId.toLowerCase()];
  }

  all(): CertificateRecord[] {
    return Object.values(this.read());
  }

  /** The certificates attached to a thing. */
  ofThing(thingName: string): CertificateRecord[] {
    return Object.values(this.read()).filter((r) => r.thingName === thingName);
  }

  register(
    pem: string,
    props: { policy: CertificatePolicy; thingName?: string; status?: CertificateStatus },
  ): CertificateRecord {
    const record: CertificateRecord = {
      certificateId: certificateIdOf(pem),
      status: props.status ?? 'ACTIVE',
      policy: props.policy,
      ...(props.thingName && { thingName: props.thingName }),
      createdAt: new Date().toISOString(),
    };
    this.write({ ...this.read(), [record.certificateId]: record });
    return record;
  }

  update(certificateId: string, change: Partial<Pick<CertificateRecord, 'status' | 'thingName'>>): CertificateRecord {
    const records = this.read();
    const record = records[certificateId];
    if (!record) throw new Error(`certificate ${certificateId} is not registered`);
    const updated = { ...record, ...change };
    this.write({ ...records, [certificateId]: updated });
    return updated;
  }

  /** Forgets certificates (a provisioning certificate never registered to a thing, as AWS IoT deletes it). */
  remove(certificateIds: readonly string[]): void {
    const records = { ...this.read() };
    const present = certificateIds.filter((id) => id in records);
    for (const id of present) delete records[id];
    if (present.length > 0) this.write(records);
  }

  private read(): Record<string, CertificateRecord> {
    if (!existsSync(this.file)) return {};
    const { mtimeMs, ino, size } = statSync(this.file);
    const stamp = `${mtimeMs}:${ino}:${size}`; // each write is a new file (rename): its inode changes
    if (this.cache?.stamp !== stamp) {
      this.cache = { stamp, records: JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, CertificateRecord> };
    }
    return this.cache.records;
  }

  private write(records: Record<string, CertificateRecord>): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(records, null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
    this.cache = undefined;
  }
}
