// First boot of a factory-made device (AWS IoT fleet provisioning by claim): it holds only the claim certificate that
// every device of the batch shares. It makes its own key and CSR (the key never leaves it), connects with the claim
// certificate (client id `claim-<serial>`), exchanges the CSR for its own certificate (CreateCertificateFromCsr) and asks
// the provisioning template to register it (RegisterThing, serial checked by the template's hook), through the device
// SDK's iotidentity client. It then stores the certificate and key where the agent reads them and disconnects; the
// agent connects with them as the thing the template named.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { iot, iotidentity, mqtt } from 'aws-iot-device-sdk-v2';
import { CLAIM_CLIENT_PREFIX } from '../lambdas/core/contracts/policy.js';
import type { DeviceLog } from './log.js';

const run = promisify(execFile);

export interface ClaimProvisioningOptions {
  readonly host: string;
  readonly port: number;
  readonly caFile: string;
  readonly claimCertFile: string;
  readonly claimKeyFile: string;
  /** The provisioning template's name (stack output ProvisioningTemplateName; locally `provisioning.templateName`). */
  readonly templateName: string;
  /** The device's serial number: the name of the thing the template makes (client id `claim-<serial>` meanwhile). */
  readonly serial: string;
  /** Where the device's own certificate and key are written. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly timeoutMs?: number;
  readonly log: DeviceLog;
}

export class ClaimProvisioningError extends Error {}

/** Runs the exchange; resolves with the thing's name once its certificate and key are stored. */
export async function provisionByClaim(opts: ClaimProvisioningOptions): Promise<{ thingName: string }> {
  await mkdir(dirname(opts.keyFile), { recursive: true, mode: 0o700 });
  const pendingKey = `${opts.keyFile}.pending`;
  const csr = await makeKeyAndCsr(pendingKey, opts.serial);
  const connection = new mqtt.MqttClient().new_connection(
    iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(opts.claimCertFile, opts.claimKeyFile)
      .with_certificate_authority_from_path(undefined, opts.caFile)
      .with_endpoint(opts.host)
      .with_port(opts.port)
      .with_client_id(`${CLAIM_CLIENT_PREFIX}${opts.serial}`)
      .with_clean_session(true)
      .with_keep_alive_seconds(30)
      .build(),
  );
  try {
    await connection.connect();
    const identity = new iotidentity.IotIdentityClient(connection);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const certificate = await exchange<iotidentity.model.CreateCertificateFromCsrResponse>(
      'CreateCertificateFromCsr',
      timeoutMs,
      (accepted, rejected) =>
        Promise.all([
          identity.subscribeToCreateCertificateFromCsrAccepted({}, mqtt.QoS.AtLeastOnce, accepted),
          identity.subscribeToCreateCertificateFromCsrRejected({}, mqtt.QoS.AtLeastOnce, rejected),
        ]),
      () => identity.publishCreateCertificateFromCsr({ certificateSigningRequest: csr }, mqtt.QoS.AtLeastOnce),
    );
    const { templateName, serial } = opts;
    const registered = await exchange<iotidentity.model.RegisterThingResponse>(
      'RegisterThing',
      timeoutMs,
      (accepted, rejected) =>
        Promise.all([
          identity.subscribeToRegisterThingAccepted({ templateName }, mqtt.QoS.AtLeastOnce, accepted),
          identity.subscribeToRegisterThingRejected({ templateName }, mqtt.QoS.AtLeastOnce, rejected),
        ]),
      () =>
        identity.publishRegisterThing(
          {
            templateName,
            certificateOwnershipToken: certificate.certificateOwnershipToken!,
            parameters: { SerialNumber: serial },
          },
          mqtt.QoS.AtLeastOnce,
        ),
    );
    const thingName = registered.thingName ?? serial;
    await writeFile(opts.certFile, certificate.certificatePem!);
    await rename(pendingKey, opts.keyFile);
    opts.log.info('provisioned by claim', { thingName, certificateId: certificate.certificateId });
    return { thingName };
  } finally {
    await rm(pendingKey, { force: true });
    await Promise.race([connection.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    connection.removeAllListeners();
  }
}

/** Subscribes to a request's two answers, publishes it, and waits for one of them. */
async function exchange<T>(
  what: string,
  timeoutMs: number,
  subscribe: (
    accepted: (error?: iotidentity.IotIdentityError, response?: T) => void,
    rejected: (error?: iotidentity.IotIdentityError, response?: iotidentity.model.ErrorResponse) => void,
  ) => Promise<unknown>,
  publish: () => Promise<unknown>,
): Promise<T> {
  let settle!: { resolve: (value: T) => void; reject: (err: Error) => void };
  const answer = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  await subscribe(
    (error, response) =>
      error || !response
        ? settle.reject(new ClaimProvisioningError(`${what}: ${error?.message ?? 'empty answer'}`))
        : settle.resolve(response),
    (error, response) =>
      settle.reject(
        new ClaimProvisioningError(
          `${what} rejected: ${response?.errorMessage ?? error?.message} (${response?.errorCode ?? 'unknown'})`,
        ),
      ),
  );
  await publish();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClaimProvisioningError(`${what}: no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
}

/** A new P-256 key (0600) and its CSR, made on the device by openssl. */
async function makeKeyAndCsr(keyFile: string, cn: string): Promise<string> {
  const csrFile = `${keyFile}.csr`;
  try {
    await run(
      'openssl',
      [
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
        csrFile,
        '-subj',
        `/CN=${cn}`,
      ],
      { timeout: 30_000 },
    );
    await chmod(keyFile, 0o600);
    return await readFile(csrFile, 'utf8');
  } finally {
    await rm(csrFile, { force: true });
  }
}
