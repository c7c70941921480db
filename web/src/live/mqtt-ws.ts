// A subscribe-only MQTT 3.1.1 client over WebSocket: CONNECT, SUBSCRIBE, PUBLISH in (QoS 0/1, PUBACK),
// keep-alive. It is all the dashboard needs, in 3 KB where mqtt.js ships 105 KB gzip (the JS budget is 150 KB).

export interface MqttOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** Seconds. */
  readonly keepalive?: number;
  readonly onMessage: (topic: string, payload: Uint8Array) => void;
  /** Called once, when an open connection ends (not when connect() fails). */
  readonly onClose: (reason: string) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function str(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  return concat([new Uint8Array([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function packet(type: number, body: Uint8Array): Uint8Array {
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return concat([new Uint8Array([type, ...length]), body]);
}

/** Splits a byte stream into MQTT packets; keeps a partial packet for the next chunk. */
export class PacketReader {
  private buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): { type: number; flags: number; body: Uint8Array }[] {
    this.buffer = this.buffer.length ? concat([this.buffer, chunk]) : chunk;
    const packets = [];
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (; i < this.buffer.length && i <= 4; i++) {
        const byte = this.buffer[i]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) break;
      }
      if (i >= this.buffer.length || this.buffer.length < i + 1 + length) break;
      const first = this.buffer[0]!;
      packets.push({ type: first >> 4, flags: first & 0x0f, body: this.buffer.subarray(i + 1, i + 1 + length) });
      this.buffer = this.buffer.subarray(i + 1 + length);
    }
    return packets;
  }
}

export class MqttWs {
  private socket?: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, (codes: number[]) => void>();
  private ping?: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private readonly opts: MqttOptions) {}

  /** Resolves on CONNACK 0; rejects on refusal, a socket error or a timeout. */
  connect(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.opts.url, ['mqtt']);
      ws.binaryType = 'arraybuffer';
      this.socket = ws;
      const reader = new PacketReader();
      let connected = false;
      const timer = setTimeout(() => fail('no CONNACK in time'), timeoutMs);
      const fail = (reason: string) => {
        clearTimeout(timer);
        ws.close();
        if (!connected) reject(new Error(reason));
      };
      ws.onopen = () => ws.send(this.connectPacket());
      ws.onerror = () => fail('WebSocket error');
      ws.onclose = (e) => {
        clearTimeout(timer);
        clearInterval(this.ping);
        if (connected && !this.closed) this.opts.onClose(e.reason || `closed (${e.code})`);
        else if (!connected) reject(new Error(`WebSocket closed (${e.code})`));
      };
      ws.onmessage = (e) => {
        for (const p of reader.push(new Uint8Array(e.data as ArrayBuffer))) {
          if (p.type === 2) {
            if (p.body[1] !== 0) return fail(`connection refused (code ${p.body[1]})`);
            connected = true;
            clearTimeout(timer);
            this.startPing();
            resolve();
          } else if (p.type === 3) this.onPublish(p.flags, p.body);
          else if (p.type === 9) this.onSuback(p.body);
        }
      };
    });
  }

  /** Subscribes at QoS 0 (a display re-reads the API on reconnect: no PUBACK per message); resolves with the granted QoS per filter (0x80 = refused). */
  subscribe(filters: readonly string[]): Promise<number[]> {
    const id = this.packetId();
    const body = concat([
      new Uint8Array([id >> 8, id & 0xff]),
      ...filters.flatMap((f) => [str(f), new Uint8Array([0])]),
    ]);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send(packet(0x82, body));
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.ping);
    if (this.socket?.readyState === WebSocket.OPEN) this.send(packet(0xe0, new Uint8Array(0)));
    this.socket?.close();
  }

  private connectPacket(): Uint8Array {
    const { clientId, username, password, keepalive = 30 } = this.opts;
    let flags = 0x02; // clean session: the dashboard wants what happens now, not a backlog
    if (username !== undefined) flags |= 0x80;
    if (password !== undefined) flags |= 0x40;
    const header = concat([str('MQTT'), new Uint8Array([4, flags, keepalive >> 8, keepalive & 0xff])]);
    const payload = [str(clientId)];
    if (username !== undefined) payload.push(str(username));
    if (password !== undefined) payload.push(str(password));
    return packet(0x10, concat([header, ...payload]));
  }

  private startPing() {
    const seconds = this.opts.keepalive ?? 30;
    this.ping = setInterval(() => this.send(new Uint8Array([0xc0, 0])), (seconds * 1000) / 2);
  }

  private onPublish(flags: number, body: Uint8Array) {
    const qos = (flags >> 1) & 3;
    const topicLength = (body[0]! << 8) | body[1]!;
    const topic = decoder.decode(body.subarray(2, 2 + topicLength));
    let at = 2 + topicLength;
    if (qos > 0) {
      this.send(packet(0x40, body.subarray(at, at + 2)));
      at += 2;
    }
    this.opts.onMessage(topic, body.subarray(at));
  }

  private onSuback(body: Uint8Array) {
    const id = (body[0]! << 8) | body[1]!;
    this.pending.get(id)?.([...body.subarray(2)]);
    this.pending.delete(id);
  }

  private packetId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffff) + 1;
    return id;
  }

  private send(bytes: Uint8Array) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(bytes);
  }
}
