// The local certificate authority under `.vpp/ca/`: it issues the broker's server certificate and one
// client certificate per thing (CN = thing name), as AWS IoT's CreateKeysAndCertificate does in the cloud, or signs a
// device's own CSR, as CreateCertificateFromCsr does. Every device certificate goes into the registry
// (`.vpp/certificates.json`), which the broker checks on connect.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { THING_NAME } from '../../../lambdas/core/contracts/topics.js';
import {
  CertificateRegistry,
  certificateIdOf,
  type CertificatePolicy,
  type CertificateRecord,
} from './cert-registry.js';

const run = promisify(execFile);

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export class LocalCa {
  readonly caFile: string;
  readonly registry: CertificateRegistry;
  private readonly caKey: string;

  constructor(private readonly dir: string) {
    this.caFile = join(dir, 'ca', 'ca.crt');
    this.caKey = join(dir, 'ca', 'ca.key');
    this.registry = new CertificateRegistry(join(dir, 'certificates.json'));
  }

  async ensure(): Promise<void> {
    if (existsSync(this.caFile) && existsSync(this.caKey)) return;
    await mkdir(join(this.dir, 'ca'), { recursive: true, mode: 0o700 });
    await openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      this.caKey,
      '-out',
      this.caFile,
      '-days',
      '3650',
      '-subj',
      '/CN=VPP Local CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  }

  /** The broker's TLS certificate for 127.0.0.1 and localhost. */
  server(): Promise<IssuedCertificate> {
    return this.issue(
      'server',
      'vpp-local-broker',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth',
    );
  }

  /**
   * A device certificate whose CN is the thing name, attached to it; re-used when it exists and is ACTIVE. One revoked
   * or deactivated stays so and the thing gets a new one, as AWS IoT's CreateKeysAndCertificate gives.
   */
  async device(thingName: string): Promise<IssuedCertificate> {
    const problem = localThingNameProblem(thingName);
    if (problem) throw new Error(problem);
    let issued = await this.issue('certs', thingName, CLIENT_EXTENSIONS);
    let record = this.registry.get(certificateIdOf(await readFile(issued.certFile, 'utf8')));
    if (record && record.status !== 'ACTIVE') {
      await Promise.all([rm(issued.certFile, { force: true }), rm(issued.keyFile, { force: true })]);
      issued = await this.issue('certs', thingName, CLIENT_EXTENSIONS);
      record = undefined;
    }
    if (!record) this.registry.register(await readFile(issued.certFile, 'utf8'), { policy: 'device', thingName });
    return issued;
  }

  /**
   * The claim certificate factory-made devices share (fleet provisioning by claim): it may only call the provisioning
   * topics; re-used when it exists.
   */
  async claim(): Promise<IssuedCertificate> {
    const issued = await this.issue('claim', 'vpp-claim', CLIENT_EXTENSIONS);
    const pem = await readFile(issued.certFile, 'utf8');
    if (!this.registry.get(certificateIdOf(pem))) this.registry.register(pem, { policy: 'claim' });
    return issued;
  }

  /**
   * Signs a device's CSR (its key never leaves it), as AWS IoT's CreateCertificateFromCsr, and registers the
   * certificate: attached to `thingName` when given (its CN is then the thing name), else to nothing yet and
   * PENDING_ACTIVATION, its CN the CA's own (UNATTACHED_SUBJECT): the subject the requester asked for is never copied.
   */
  async fromCsr(
    csr: string,
    props: { thingName?: string; policy?: CertificatePolicy } = {},
  ): Promise<{ certificatePem: string; record: CertificateRecord }> {
    if (props.thingName) {
      const problem = localThingNameProblem(props.thingName);
      if (problem) throw new Error(problem);
    }
    const work = join(tmpdir(), `vpp-csr-${randomUUID()}`);
    await mkdir(work, { mode: 0o700 });
    try {
      const csrFile = join(work, 'device.csr');
      const ext = join(work, 'ext');
      const certFile = join(work, 'device.crt');
      await writeFile(csrFile, csr);
      await writeFile(ext, `${CLIENT_EXTENSIONS}\n`);
      await openssl('req', '-in', csrFile, '-verify', '-noout'); // the requester holds the key
      await openssl(
        'x509',
        '-req',
        '-in',
        csrFile,
        '-CA',
        this.caFile,
        '-CAkey',
        this.caKey,
        '-set_serial',
        serial(),
        '-days',
        '825',
        '-subj',
        `/CN=${props.thingName ?? UNATTACHED_SUBJECT}`,
        '-extfile',
        ext,
        '-out',
        certFile,
      );
      const certificatePem = await readFile(certFile, 'utf8');
      const record = this.registry.register(certificatePem, {
        policy: props.policy ?? 'device',
        thingName: props.thingName,
        ...(!props.thingName && { status: 'PENDING_ACTIVATION' as const }),
      });
      return { certificatePem, record };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** `npm run provision -- <thing> --csr <file>`: the CSR signed into `certs/<thing>.cert.pem`; no key is written. */
  async deviceFromCsr(
    thingName: string,
    csr: string,
  ): Promise<{ certificateId: string; certFile: string; caFile: string }> {
    const { certificatePem, record } = await this.fromCsr(csr, { thingName });
    const dir = join(this.dir, 'certs');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const certFile = join(dir, `${fileName(thingName)}.cert.pem`);
    await writeFile(certFile, certificatePem);
    return { certificateId: record.certificateId, certFile, caFile: this.caFile };
  }

  private async issue(folder: string, cn: string, extensions: string): Promise<IssuedCertificate> {
    const dir = join(this.dir, folder);
    const certFile = join(dir, `${fileName(cn)}.cert.pem`);
    const keyFile = join(dir, `${fileName(cn)}.private.key`);
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      try {
        await this.sign(dir, cn, extensions, certFile, keyFile);
      } catch (err) {
        // never leave a key without its certificate (or half of a pair) behind
        await Promise.all([rm(certFile, { force: true }), rm(keyFile, { force: true })]);
        throw err;
      }
    }
    return { certFile, keyFile, caFile: this.caFile };
  }

  private async sign(dir: string, cn: string, extensions: string, certFile: string, keyFile: string) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const csr = `${certFile}.csr`;
    const ext = `${certFile}.ext`;
    try {
      await openssl(
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        csr,
        '-subj',
        `/CN=${cn}`,
      );
      await writeFile(ext, `${extensions}\n`);
      await openssl(
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        this.caFile,
        '-CAkey',
        this.caKey,
        '-set_serial',
        serial(),
        '-days',
        '825',
        '-extfile',
        ext,
        '-out',
        certFile,
      );
    } finally {
      await Promise.all([rm(csr, { force: true }), rm(ext, { force: true })]);
    }
  }
}

const CLIENT_EXTENSIONS = 'extendedKeyUsage=clientAuth';
/** The subject of a certificate issued before it names a thing: AWS IoT's own, and no thing name (it has spaces). */
export const UNATTACHED_SUBJECT = 'AWS IoT Certificate';
const serial = () => `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`;

/** An X.509 common name holds at most 64 characters; AWS IoT thing names up to 128 (use --aws for those). */
export const LOCAL_THING_NAME_MAX = 64;

/** Why this thing name cannot have a local certificate, or undefined. */
export function localThingNameProblem(thingName: string): string | undefined {
  if (!THING_NAME.test(thingName))
    return `thing name ${JSON.stringify(thingName)}: 1-128 characters of a-z A-Z 0-9 : _ -`;
  if (thingName.length > LOCAL_THING_NAME_MAX) {
    return `thing name of ${thingName.length} characters: the local CA puts it in the certificate's common name, at most ${LOCAL_THING_NAME_MAX}`;
  }
  return undefined;
}

/** Names that differ only by case get different files, also on a case-insensitive disk. */
function fileName(name: string): string {
  return name === name.toLowerCase()
    ? name
    : `${name.toLowerCase()}.${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { timeout: 30_000 });
}
