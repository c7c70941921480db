// The local MQTT broker (aedes, MQTT 3.1.1) over mutual TLS, enforcing what the AWS IoT policy enforces:
// client id = the thing the registry attaches the certificate to, and each device reaches only its own topics.
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import {
  CLAIM_CLIENT_PREFIX,
  isAllowed,
  isClaimAllowed,
  OPERATOR_CLIENT_PREFIX,
  operatorSubscribeFilters,
} from '../../../lambdas/core/contracts/policy.js';
import { MAX_PAYLOAD_BYTES } from '../../../lambdas/core/contracts/schemas.js';
import { parseBasicIngestTopic, topics } from '../../../lambdas/core/contracts/topics.js';
import { boundOutgoing, deliveryProbe, guardEmitter, guardForward } from './broker-delivery.js';
import type { CertificateRecord } from './cert-registry.js';

export interface BrokerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: { key: Buffer; cert: Buffer; ca: Buffer };
  /** MQTT over WebSocket on `/mqtt` of this server, for the dashboard (password = the dev token). */
  readonly httpServer: HttpServer;
  readonly isOperatorToken: (password: string) => boolean;
  /**
   * Every publish the policy allows, device or internal, before the broker takes it: the message is acknowledged
   * (QoS 1 PUBACK) and forwarded only once this resolves, i.e. once it is durably in the rules' streams. While it is
   * pending the broker reads nothing more from that publisher. A rejection drops the publisher's connection unacked.
   */
  readonly toRules?: (topic: string, payload: Buffer, clientId: string | undefined) => Promise<void>;
  /** Every publish the broker accepts, device or internal, in arrival order. */
  readonly onPublish: (topic: string, payload: Buffer, clientId: string | undefined) => void;
  /**
   * A publish or subscribe the policy refused, or a publish over AWS IoT's payload limit (AWS IoT logs these; locally
   * they go to the error sink). `reason` and `message` say why when it is not the topic alone.
   */
  readonly onRefused: (
    clientId: string,
    action: 'publish' | 'subscribe',
    topic: string,
    why?: { reason: 'not-authorized' | 'oversize'; message: string },
  ) => void;
  /** Operational lines (TLS handshakes that failed). */
  readonly log?: (line: string) => void;
  /**
   * IoT Core's HTTPS publish (`POST /topics/{topic}?qos=1` with the device certificate) on this port, on the broker's
   * TLS settings: the certificate's CN is the device, checked and delivered as its MQTT publish would be. Off if absent.
   */
  readonly httpsPort?: number;
  /**
   * The certificate registry, as AWS IoT's, checked on every way in (MQTT connect, every publish, HTTPS publish): a
   * certificate is let in only while it is registered and ACTIVE, as the thing it is attached to (never a name inside
   * it), or with the claim policy (the provisioning topics over MQTT only).
   */
  readonly certificate: (certificateId: string) => CertificateRecord | undefined;
  /** The provisioning template claim certificates may use (`$aws/provisioning-templates/{name}/provision/json`). */
  readonly provisioningTemplate?: string;
}

export interface Broker {
  readonly port: number;
  /** The HTTPS publish port, when it is on. */
  readonly httpsPort?: number;
  /** Listening for devices. */
  readonly up: boolean;
  /** Delivering: a message published now reaches subscribers within a bound (the broker's own probe arrives). */
  readonly delivering: boolean;
  publish(topic: string, payload: Buffer | string, qos: 0 | 1): Promise<void>;
  /** Publishes to one client only, as IoT Core answers a provisioning request to the connection that made it. */
  publishTo(clientId: string, topic: string, payload: string): Promise<void>;
  /** Drops every connection made with this certificate (revoked or deactivated: IoT Core closes them at once). */
  disconnectCertificate(certificateId: string): number;
  close(): Promise<void>;
}

/**
 * Rule deliveries (toRules) a connection may have pending before the broker stops reading it. aedes itself keeps
 * reading a socket while its packets are being handled, so a full stream would otherwise pile messages up in memory.
 */
export const MAX_PENDING_PER_CONNECTION = 32;

/**
 * The largest PUBLISH packet read at all: the 128 KiB payload plus AWS IoT's longest topic (256 bytes), its length
 * and a packet id. A packet announcing more is refused from its fixed header, before its body is read into memory
 * (mqtt-packet's parser, which aedes uses, has no size limit and would buffer it whole).
 */
export const MAX_PUBLISH_PACKET = MAX_PAYLOAD_BYTES + 256 + 4;
const PUBLISH = 3;

/**
 * A device's TLS socket as aedes sees it, with a brake: the socket is read only while aedes wants more data (the
 * stream's own backpressure, which aedes' eager reading alone does not give) and the connection has fewer than
 * MAX_PENDING_PER_CONNECTION rule deliveries pending. Otherwise it is paused: nothing more is read, the kernel's
 * buffers fill and TCP pushes back on the publisher.
 */
class BrakedConnection extends Duplex {
  private pending = 0;
  private wanted = true;
  /** Where the MQTT framing stands: bytes of the current packet's body still to pass, or its fixed header so far. */
  private skip = 0;
  private header: number[] = [];

  constructor(
    readonly socket: tls.TLSSocket,
    private readonly onOversize: (bytes: number) => void,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => {
      if (!this.withinLimit(chunk)) return;
      if (!this.push(chunk)) this.wanted = false;
      this.flow();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /**
   * Follows the MQTT framing (fixed header: type, then a 1-4 byte remaining length) through the bytes read; a PUBLISH
   * longer than MAX_PUBLISH_PACKET drops the connection before any of it reaches aedes.
   */
  private withinLimit(chunk: Buffer): boolean {
    for (let i = 0; i < chunk.length;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      this.header.push(byte);
      if (this.header.length === 1 || (byte & 0x80 && this.header.length < 5)) continue;
      let length = 0;
      for (let k = this.header.length - 1; k >= 1; k--) length = length * 128 + (this.header[k]! & 0x7f);
      const type = this.header[0]! >> 4;
      this.header = [];
      if (type === PUBLISH && length > MAX_PUBLISH_PACKET) {
        this.onOversize(length);
        this.destroy();
        return false;
      }
      this.skip = length;
    }
    return true;
  }

  /** Runs one delivery, braking while too many are pending. */
  async deliver(run: () => Promise<void>): Promise<void> {
    this.pending++;
    this.flow();
    try {
      await run();
    } finally {
      this.pending--;
      this.flow();
    }
  }

  private flow(): void {
    if (this.socket.destroyed) return;
    if (this.wanted && this.pending < MAX_PENDING_PER_CONNECTION) this.socket.resume();
    else this.socket.pause();
  }

  override _read(): void {
    this.wanted = true;
    this.flow();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

/** The TLS socket under a client's connection, if it came in over TLS. */
const tlsSocketOf = (client: Client) =>
  client.conn instanceof BrakedConnection
    ? client.conn.socket
    : client.conn instanceof tls.TLSSocket
      ? client.conn
      : undefined;

type Identity =
  | { kind: 'device'; thingName: string; principal: string; peer?: string }
  | { kind: 'claim'; principal: string }
  | { kind: 'operator'; subject: string };
const identities = new WeakMap<Client, Identity>();

const authError = (message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode: 5 /* not authorized */ }) as AuthenticateError;

/** AWS IoT's certificate id of a TLS peer: the SHA-256 of its certificate's DER. */
const principalOf = (socket: tls.TLSSocket) =>
  socket.getPeerCertificate().fingerprint256.replaceAll(':', '').toLowerCase();

/**
 * The one identity check of a client certificate, for every way in: who the registry says it speaks for now, or why
 * it may not. The identity is the thing the certificate is attached to, never the certificate's subject.
 */
export function identify(
  certificate: BrokerOptions['certificate'],
  principal: string,
): { kind: 'device'; thingName: string } | { kind: 'claim' } | { refused: string } {
  const record = certificate(principal);
  if (!record) return { refused: `certificate ${principal} is not registered` };
  if (record.status !== 'ACTIVE') return { refused: `certificate ${principal} is ${record.status}` };
  if (record.policy === 'claim') return { kind: 'claim' };
  if (!record.thingName) return { refused: `certificate ${principal} is attached to no thing` };
  return { kind: 'device', thingName: record.thingName };
}

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  let presenceVersion = 0;
  const recipients = new Map<string, string>();
  const recipientKey = (topic: string, payload: Buffer | string) => `${topic}\n${payload.toString()}`;
  const aedes = await Aedes.createBroker({
    authenticate(client, _username, password, done) {
      const socket = tlsSocketOf(client);
      if (socket) {
        const principal = principalOf(socket);
        const peer = socket.remoteAddress?.replace(/^::ffff:/, '');
        const found = identify(opts.certificate, principal);
        if ('refused' in found) return done(authError(found.refused), false);
        if (found.kind === 'claim') {
          if (!client.id.startsWith(CLAIM_CLIENT_PREFIX))
            return done(authError(`a claim certificate connects only as ${CLAIM_CLIENT_PREFIX}<serial>`), false);
          identities.set(client, { kind: 'claim', principal });
          return done(null, true);
        }
        if (found.thingName !== client.id)
          return done(authError(`certificate ${principal} is attached to ${found.thingName}, not ${client.id}`), false);
        identities.set(client, { kind: 'device', thingName: found.thingName, principal, ...(peer && { peer }) });
        return done(null, true);
      }
      if (password && opts.isOperatorToken(password.toString())) {
        // as the AWS custom authorizer's policy: an operator never takes a device's client id (and its session)
        if (!client.id.startsWith(OPERATOR_CLIENT_PREFIX))
          return done(authError(`operator client ids start with ${OPERATOR_CLIENT_PREFIX}`), false);
        // the client id is bound to the token that holds it: another token's holder cannot take it (and knock it off)
        const subject = createHash('sha256').update(password).digest('hex');
        const holder = (aedes as unknown as { clients: Record<string, Client> }).clients[client.id];
        const held = holder && identities.get(holder);
        if (held?.kind === 'operator' && held.subject !== subject)
          return done(authError(`${client.id} is another operator's connection`), false);
        identities.set(client, { kind: 'operator', subject });
        return done(null, true);
      }
      done(authError('MQTT over WebSocket needs the operator token as password'), false);
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null);
      const id = identities.get(client);
      // the registry again on every publish, the Last Will included: a certificate revoked or deactivated since the
      // connect publishes nothing more, even before its connection is dropped
      if (id && id.kind !== 'operator') {
        const now = identify(opts.certificate, id.principal);
        if ('refused' in now || now.kind !== id.kind || (now.kind === 'device' && now.thingName !== client.id)) {
          const message = 'refused' in now ? now.refused : `certificate ${id.principal} is no longer ${client.id}'s`;
          opts.onRefused(client.id, 'publish', packet.topic, { reason: 'not-authorized', message });
          return callback(new Error(`${client.id} may not publish any more`));
        }
      }
      // as AWS IoT: no device policy grants iot:RetainPublish, and no payload is over 128 KiB; either drops the connection
      if (packet.retain) {
        opts.onRefused(client.id, 'publish', packet.topic, {
          reason: 'not-authorized',
          message: `${client.id} may not retain (iot:RetainPublish) on ${packet.topic}`,
        });
        return callback(new Error(`${client.id} may not retain messages`));
      }
      if (packet.payload.length > MAX_PAYLOAD_BYTES) {
        opts.onRefused(client.id, 'publish', packet.topic, {
          reason: 'oversize',
          message: `${packet.payload.length} bytes > ${MAX_PAYLOAD_BYTES}`,
        });
        return callback(new Error(`${client.id} published ${packet.payload.length} bytes`));
      }
      if (id?.kind === 'device' && isAllowed('publish', id.thingName, packet.topic)) {
        // aedes writes the PUBACK right after this callback: hold it until the message is stored
        const toRules = opts.toRules;
        if (!toRules) return callback(null);
        const deliver = () => toRules(packet.topic, Buffer.from(packet.payload), client.id);
        const delivered = client.conn instanceof BrakedConnection ? client.conn.deliver(deliver) : deliver();
        return void delivered.then(
          () => callback(null),
          (err: Error) => callback(err),
        );
      }
      if (
        id?.kind === 'claim' &&
        opts.provisioningTemplate &&
        isClaimAllowed('publish', opts.provisioningTemplate, packet.topic)
      ) {
        return callback(null); // to the provisioning service (onPublish), never to the rules
      }
      opts.onRefused(client.id, 'publish', packet.topic);
      callback(new Error(`${client.id} may not publish to ${packet.topic}`));
    },
    authorizeSubscribe(client, subscription, callback) {
      const id = identities.get(client);
      const allowed =
        !parseBasicIngestTopic(subscription.topic) && // Basic Ingest topics are the rules' alone, as in IoT Core
        (id?.kind === 'device'
          ? isAllowed('subscribe', id.thingName, subscription.topic)
          : id?.kind === 'claim'
            ? opts.provisioningTemplate !== undefined &&
              isClaimAllowed('subscribe', opts.provisioningTemplate, subscription.topic)
            : (operatorSubscribeFilters as readonly string[]).includes(subscription.topic));
      if (!allowed) opts.onRefused(client.id, 'subscribe', subscription.topic);
      callback(null, allowed ? subscription : null);
    },
    // Basic Ingest skips the broker: the message goes to its rule (toRules) and to no subscriber. A provisioning
    // answer goes to the connection that asked only.
    authorizeForward: (client, packet) => {
      if (parseBasicIngestTopic(packet.topic)) return null;
      if (recipients.size === 0 || !packet.topic.startsWith('$aws/')) return packet; // the hot path: no string built
      const recipient = recipients.get(recipientKey(packet.topic, packet.payload));
      return recipient === undefined || recipient === client?.id ? packet : null;
    },
  });
  // no delivery waits on one client, no exception in one escapes into the connection that published
  const log = opts.log ?? (() => undefined);
  guardEmitter(aedes, log);
  guardForward(aedes, log);
  const probe = deliveryProbe(aedes);
  const slowClient = (id: () => string) => (bytes: number) =>
    log(`warning: dropped slow client ${id()}: ${bytes} bytes not taken by its socket`);

  const publish = async (topic: string, payload: Buffer | string, qos: 0 | 1, clientId?: string) => {
    await opts.toRules?.(topic, Buffer.from(payload), clientId);
    return new Promise<void>((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  };

  aedes.on('publish', (packet, client) => {
    if (packet.topic.startsWith('$SYS/')) return;
    try {
      opts.onPublish(packet.topic, Buffer.from(packet.payload), client?.id);
    } catch (err) {
      log(`error: broker onPublish ${packet.topic}: ${(err as Error).stack}`);
    }
  });

  // as IoT Core: one session id for a connection's connect and disconnect events, and the peer's address
  const sessions = new WeakMap<Client, string>();
  const presence = (client: Client, eventType: 'connected' | 'disconnected') => {
    const id = identities.get(client);
    if (id?.kind !== 'device') return;
    if (!sessions.has(client)) sessions.set(client, randomUUID());
    const event = {
      clientId: client.id,
      timestamp: Date.now(),
      eventType,
      sessionIdentifier: sessions.get(client)!,
      ...(id.peer && { ipAddress: id.peer }),
      principalIdentifier: id.principal,
      versionNumber: ++presenceVersion,
      ...(eventType === 'disconnected' && { clientInitiatedDisconnect: false, disconnectReason: 'CONNECTION_LOST' }),
    };
    publish(topics.presence(eventType, client.id), JSON.stringify(event), 1).catch(() => undefined);
  };
  aedes.on('clientReady', (client) => presence(client, 'connected'));
  aedes.on('clientDisconnect', (client) => presence(client, 'disconnected'));

  const server = tls.createServer(
    // No Nagle: an MQTT packet is a whole message; holding it for the peer's delayed ACK adds up to 40 ms (bench 3).
    { ...opts.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', noDelay: true },
    (socket) => {
      const cn = () => String(socket.getPeerCertificate()?.subject?.CN ?? socket.remoteAddress);
      const conn = new BrakedConnection(socket, (bytes) =>
        opts.onRefused(cn(), 'publish', '(not read)', {
          reason: 'oversize',
          message: `a ${bytes}-byte PUBLISH packet > ${MAX_PUBLISH_PACKET}: connection dropped unread`,
        }),
      );
      aedes.handle(boundOutgoing(conn, slowClient(cn)));
    },
  );
  // a foreign CA, an expired or revoked certificate, no certificate: the handshake fails before MQTT; say who and why
  // (a failed handshake has often closed its socket already: the peer is taken when the connection comes in)
  const peers = new WeakMap<Socket, string>();
  server.on('connection', (raw: Socket) =>
    peers.set(raw, `${raw.remoteAddress?.replace(/^::ffff:/, '')}:${raw.remotePort}`),
  );
  server.on('tlsClientError', (err, socket) => {
    const raw = (socket as unknown as { _parent?: Socket })._parent;
    const peer = (raw && peers.get(raw)) ?? `${socket.remoteAddress}:${socket.remotePort}`;
    opts.log?.(`warning: TLS handshake from ${peer} failed: ${err.message}`);
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');

  const https = opts.httpsPort === undefined ? undefined : await startHttpsPublish(opts, opts.httpsPort, publish);

  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    if (pathOf(req.url) !== '/mqtt') {
      // an upgraded socket escapes the HTTP server's timeouts: answered and closed, never left open
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n', () => socket.destroy());
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      aedes.handle(
        boundOutgoing(
          stream,
          slowClient(() => (stream as { client?: Client }).client?.id ?? 'live feed'),
        ),
        req,
      );
    });
  };
  opts.httpServer.on('upgrade', onUpgrade);

  const address = server.address();
  let closed = false;
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    ...(https && { httpsPort: (https.address() as AddressInfo).port }),
    get up() {
      return server.listening;
    },
    get delivering() {
      return probe.delivering;
    },
    publish: (topic, payload, qos) => publish(topic, payload, qos),
    async publishTo(clientId, topic, payload) {
      const key = recipientKey(topic, payload);
      recipients.set(key, clientId);
      try {
        await publish(topic, payload, 1);
      } finally {
        recipients.delete(key);
      }
    },
    disconnectCertificate(certificateId) {
      let dropped = 0;
      for (const client of Object.values((aedes as unknown as { clients: Record<string, Client> }).clients)) {
        const id = identities.get(client);
        if (id && id.kind !== 'operator' && id.principal === certificateId.toLowerCase()) {
          client.close();
          dropped++;
        }
      }
      return dropped;
    },
    async close() {
      if (closed) return;
      closed = true;
      probe.stop();
      https?.closeAllConnections();
      https?.close();
      opts.httpServer.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      server.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/**
 * `POST /topics/{topic}?qos=0|1` over mutual TLS, as IoT Core's data endpoint on 8443: the publisher is the thing the
 * registry attaches the client certificate to (the same check as an MQTT connect; a claim certificate never publishes
 * here), the device policy and the 128 KiB limit apply, and the message goes where its MQTT publish would (the rules,
 * then subscribers). 200 once it is in the rules' streams; 403 refused; 413 too large.
 */
async function startHttpsPublish(
  opts: BrokerOptions,
  port: number,
  publish: (topic: string, payload: Buffer, qos: 0 | 1, clientId: string) => Promise<void>,
): Promise<HttpsServer> {
  const reply = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message, traceId: randomUUID() }));
  };
  const server = createHttpsServer(
    { ...opts.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    async (req, res) => {
      const principal = principalOf(req.socket as tls.TLSSocket);
      const url = new URL(req.url ?? '/', 'https://local');
      const topic = url.pathname.startsWith('/topics/') ? decodedOrEmpty(url.pathname.slice('/topics/'.length)) : '';
      if (req.method !== 'POST' || !topic) return reply(res, 404, 'POST /topics/{topic}');
      const found = identify(opts.certificate, principal);
      if ('refused' in found || found.kind === 'claim') {
        const message =
          'refused' in found
            ? found.refused
            : `certificate ${principal} carries the claim policy: the provisioning topics over MQTT only`;
        opts.onRefused(principal, 'publish', topic, {
          reason: 'not-authorized',
          message: `${message} (HTTPS publish)`,
        });
        res.setHeader('connection', 'close');
        return reply(res, 403, 'Forbidden');
      }
      const thing = found.thingName;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_PAYLOAD_BYTES) {
          opts.onRefused(thing, 'publish', topic, {
            reason: 'oversize',
            message: `over ${MAX_PAYLOAD_BYTES} bytes (HTTPS publish)`,
          });
          res.setHeader('connection', 'close');
          return reply(res, 413, `payload over ${MAX_PAYLOAD_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
      if (url.searchParams.has('retain') && url.searchParams.get('retain') !== 'false') {
        opts.onRefused(thing, 'publish', topic, {
          reason: 'not-authorized',
          message: `${thing} may not retain (iot:RetainPublish) on ${topic}`,
        });
        return reply(res, 403, 'Forbidden');
      }
      if (!isAllowed('publish', thing, topic)) {
        opts.onRefused(thing, 'publish', topic);
        return reply(res, 403, 'Forbidden');
      }
      try {
        await publish(topic, Buffer.concat(chunks), url.searchParams.get('qos') === '0' ? 0 : 1, thing);
        reply(res, 200, 'OK');
      } catch (err) {
        reply(res, 503, (err as Error).message);
      }
    },
  );
  server.on('tlsClientError', (err, socket) =>
    opts.log?.(
      `warning: TLS handshake (HTTPS publish) from ${socket.remoteAddress}:${socket.remotePort} failed: ${err.message}`,
    ),
  );
  server.listen(port, opts.host);
  await once(server, 'listening');
  return server;
}

/** The path of a request's URL, or '' when it is not one. */
function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://local').pathname;
  } catch {
    return '';
  }
}

/** A percent-encoded path segment, or '' when it is not valid UTF-8 percent-encoding (a 404, never a thrown URIError). */
function decodedOrEmpty(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}
