// The one live store every view reads: filled from the REST API, then kept current by the MQTT-over-WebSocket feed.
// When the socket drops it polls the API every few seconds and keeps trying to reconnect; views are told of changes
// at most twice a second, however many messages arrive (1,000 VENs at 5 s is 200 messages a second).
import type { Api } from '../api/client.js';
import type { Ack, GatewayTelemetry, Portfolio, Ven, WinterRiverNode, WinterRiverSystem } from '../api/types.js';
import { operatorSubscribeFilters } from '../../../lambdas/core/contracts/policy.js';
import { MqttWs } from './mqtt-ws.js';

export type Connection = 'connecting' | 'live' | 'polling';

export interface VenRow {
  venId: string;
  online: boolean;
  /** Epoch ms of the newest reading. */
  lastSeen?: number;
  /** How often the VEN reports, as the API learnt it. */
  reportIntervalMs?: number;
  usedPowerKw?: number;
  shedPowerKw?: number;
  availableShedKw?: number;
  batterySOC?: number | null;
  eventId?: string | null;
}

export interface NodeRow {
  nodeId: string;
  online: boolean;
  lastSeen?: number;
  status: string | null;
  fields: Record<string, unknown>;
}

export interface ShadowState {
  reported: Record<string, unknown>;
  /** Epoch ms the shadow service stamped. */
  at: number;
}

export interface LiveMessage {
  readonly topic: string;
  readonly payload: unknown;
}

/** What the live feed subscribes to: exactly what the local broker and the AWS IoT custom authorizer allow operators. */
export const LIVE_TOPICS = operatorSubscribeFilters;

export const POLL_MS = 5_000;
const RECONCILE_MS = 60_000;
const NOTIFY_MS = 500;
const decoder = new TextDecoder();

export type Connect = (handlers: {
  onMessage: (topic: string, payload: Uint8Array) => void;
  onClose: (reason: string) => void;
}) => Promise<MqttWs>;

export class LiveStore {
  connection: Connection = 'connecting';
  /** Why the socket is down, for the indicator's tooltip. */
  connectionDetail = '';
  readonly vens = new Map<string, VenRow>();
  readonly nodes = new Map<string, NodeRow>();
  readonly gateways = new Map<string, GatewayTelemetry>();
  readonly shadows = new Map<string, ShadowState>();
  portfolio?: Portfolio;
  /** The Winter River controller's view of the power chain (what runs on the UPS or the generator), for the alarms. */
  system?: WinterRiverSystem;
  /** Set once the first REST load is in. */
  loaded = false;
  /** Bumped on every change: views memoise on it. */
  version = 0;
  loadError = '';
  /** Epoch ms of the first failed request of an outage of the API (no answer at all); undefined while it answers. */
  apiDownSince?: number;
  /** Epoch ms of the last complete read of the fleet from the API: what the numbers are "as of" during an outage. */
  asOf?: number;

  private readonly listeners = new Set<() => void>();
  private readonly messageListeners = new Set<(m: LiveMessage) => void>();
  private notifyTimer?: ReturnType<typeof setTimeout>;
  private lastNotify = 0;
  private loading?: Promise<void>;
  private pollTimer?: ReturnType<typeof setInterval>;
  private reconcileTimer?: ReturnType<typeof setInterval>;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private socket?: MqttWs;
  private retries = 0;
  private stopped = false;
  private probeTimer?: ReturnType<typeof setInterval>;
  private systemReadAt = 0;

  constructor(
    private readonly api: Api,
    private readonly connect: Connect,
  ) {}

  start(): void {
    void this.refresh();
    void this.openSocket();
    this.reconcileTimer = setInterval(() => void this.refresh(), RECONCILE_MS);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.reconcileTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.probeTimer);
    this.socket?.close();
  }

  /** Re-render hook: called at most every NOTIFY_MS after changes. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every live message as it arrives (ACKs, shadow documents), for views that follow one thing. */
  onMessage(listener: (m: LiveMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Re-reads the REST API now (start-up, polling, reconciliation); one read at a time. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const first = !this.loaded;
    try {
      const [vens, nodes, portfolio] = await Promise.all([
        this.api.all<Ven>('/api/vens'),
        this.api.all<WinterRiverNode>('/api/winter-river/nodes'),
        this.api.get<Portfolio>('/api/portfolio'),
      ]);
      for (const v of vens) this.mergeVen(v);
      for (const n of nodes) this.mergeNode(n);
      this.portfolio = portfolio;
      this.loaded = true;
      this.loadError = '';
      this.asOf = Date.now();
      void this.readSystem();
    } catch (err) {
      this.loadError = (err as Error).message;
    }
    this.changed(first);
  }

  /**
   * Told by the API client after every request whether the API answered at all. The first failure starts an outage
   * (re-read every POLL_MS until it answers, even with the live feed up); the first answer ends it.
   */
  reachable(answered: boolean): void {
    if (answered === (this.apiDownSince === undefined)) return;
    if (answered) {
      this.apiDownSince = undefined;
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
      void this.refresh();
    } else {
      this.apiDownSince = Date.now();
      this.probeTimer ??= setInterval(() => void this.refresh(), POLL_MS);
    }
    this.changed(true);
  }

  /** Re-reads the power chain, at most every POLL_MS: a node's status on the live feed may mean it changed. */
  private async readSystem(): Promise<void> {
    if (Date.now() - this.systemReadAt < POLL_MS) return;
    this.systemReadAt = Date.now();
    try {
      this.system = await this.api.get<WinterRiverSystem>('/api/winter-river/system');
      this.changed();
    } catch {
      // the outage state says it when the API is down; the Winter River view shows any other error
    }
  }

  private async openSocket(): Promise<void> {
    if (this.stopped) return;
    try {
      const socket = await this.connect({
        onMessage: (topic, payload) => this.onLive(topic, payload),
        onClose: (reason) => this.socketDown(reason),
      });
      const granted = await socket.subscribe(LIVE_TOPICS);
      if (granted.some((code) => code === 0x80)) {
        socket.close();
        throw new Error(`the live feed refused ${LIVE_TOPICS.filter((_, i) => granted[i] === 0x80).join(', ')}`);
      }
      this.socket = socket;
      this.retries = 0;
      this.connection = 'live';
      this.connectionDetail = '';
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      if (this.loaded) void this.refresh(); // catch up on what the socket missed
    } catch (err) {
      this.socketDown((err as Error).message);
    }
  }

  private socketDown(reason: string): void {
    this.socket = undefined;
    if (this.stopped) return;
    this.connection = 'polling';
    this.connectionDetail = reason;
    this.pollTimer ??= setInterval(() => void this.refresh(), POLL_MS);
    const delay = Math.min(1000 * 2 ** this.retries++, 15_000);
    this.retryTimer = setTimeout(() => void this.openSocket(), delay);
    this.changed();
  }

  private onLive(topic: string, bytes: Uint8Array): void {
    let payload: unknown;
    try {
      payload = JSON.parse(decoder.decode(bytes));
    } catch {
      return; // the platform refuses it too; the refused-input view shows it
    }
    if (typeof payload !== 'object' || payload === null) return;
    const parts = topic.split('/');
    if (topic === 'volttron/metering') this.onMetering(payload as Record<string, unknown>);
    else if (parts[0] === 'winter-river') this.onNodeStatus(parts[1]!, payload as Record<string, unknown>);
    else if ((parts[0] === 'der' || parts[0] === 'ven') && parts[1] === 'telemetry')
      this.onGateway(payload as Partial<GatewayTelemetry>);
    else if (parts[0] === '$aws' && parts[3] === 'shadow') this.onShadow(parts[2]!, payload as ShadowDocuments);
    for (const listener of this.messageListeners) listener({ topic, payload });
    this.changed();
  }

  private onMetering(m: Record<string, unknown>) {
    const samples = Array.isArray(m.batch) ? (m.batch as Record<string, unknown>[]) : [m];
    for (const s of samples) {
      if (typeof s.venId !== 'string' || typeof s.timestamp !== 'number') continue;
      const row = this.vens.get(s.venId) ?? { venId: s.venId, online: true };
      const at = s.timestamp * 1000;
      if (row.lastSeen !== undefined && at < row.lastSeen) continue;
      row.online = true;
      row.lastSeen = at;
      row.usedPowerKw = num(s.usedPowerKw);
      row.shedPowerKw = num(s.shedPowerKw) ?? 0;
      row.batterySOC = num(s.batterySOC) ?? null;
      row.eventId = typeof s.eventId === 'string' ? s.eventId : null;
      this.vens.set(s.venId, row);
    }
  }

  private onNodeStatus(nodeId: string, s: Record<string, unknown>) {
    if (s.node_id !== nodeId) return;
    const { node_id: _id, status, ...fields } = s;
    this.nodes.set(nodeId, {
      nodeId,
      online: true,
      lastSeen: Date.now(),
      status: typeof status === 'string' ? status : null,
      fields,
    });
    void this.readSystem();
  }

  private onGateway(t: Partial<GatewayTelemetry>) {
    if (typeof t.gatewayId === 'string' && Array.isArray(t.assets))
      this.gateways.set(t.gatewayId, t as GatewayTelemetry);
  }

  private onShadow(thing: string, doc: ShadowDocuments) {
    const reported = doc.current?.state?.reported;
    if (!reported) return;
    const at = (doc.timestamp ?? Date.now() / 1000) * 1000;
    this.shadows.set(thing, { reported, at });
    this.onVenShadow(thing, reported, typeof reported.timestamp === 'number' ? reported.timestamp * 1000 : at);
  }

  /**
   * A VEN's shadow carries its used and shed power. A VEN on the agent's economy profile meters through Basic Ingest,
   * which this feed never sees, and reports its shadow on every material change: that is its live reading here.
   */
  private onVenShadow(venId: string, r: Record<string, unknown>, at: number) {
    const used = num(r.power_kw);
    if (used === undefined || !Array.isArray(r.circuits)) return;
    const row = this.vens.get(venId) ?? { venId, online: true };
    if (row.lastSeen !== undefined && at < row.lastSeen) return;
    const event = r.active_event as { event_id?: unknown } | null | undefined;
    row.online = true;
    row.lastSeen = at;
    row.usedPowerKw = used;
    row.shedPowerKw = num(r.shed_kw) ?? 0;
    row.eventId = typeof event?.event_id === 'string' ? event.event_id : null;
    this.vens.set(venId, row);
  }

  private mergeVen(v: Ven) {
    const latest = (v.latest ?? {}) as Record<string, unknown>;
    const at = v.lastSeen ? Date.parse(v.lastSeen) : undefined;
    const row = this.vens.get(v.venId);
    // A live reading newer than the REST one wins; online state is the registry's (presence).
    if (row?.lastSeen !== undefined && at !== undefined && row.lastSeen > at) {
      row.online = v.online;
      row.reportIntervalMs = v.reportIntervalMs;
      row.availableShedKw = num(latest.availableShedKw);
      return;
    }
    this.vens.set(v.venId, {
      venId: v.venId,
      online: v.online,
      ...(v.reportIntervalMs !== undefined && { reportIntervalMs: v.reportIntervalMs }),
      ...(at !== undefined && { lastSeen: at }),
      usedPowerKw: num(latest.usedPowerKw),
      shedPowerKw: num(latest.shedPowerKw),
      availableShedKw: num(latest.availableShedKw),
      batterySOC: num(latest.batterySOC) ?? null,
      eventId: typeof latest.eventId === 'string' ? latest.eventId : null,
    });
  }

  private mergeNode(n: WinterRiverNode) {
    const { node_id: _id, status: _s, ...fields } = (n.latest ?? {}) as Record<string, unknown>;
    const at = n.lastSeen ? Date.parse(n.lastSeen) : undefined;
    const row = this.nodes.get(n.nodeId);
    if (row?.lastSeen !== undefined && at !== undefined && row.lastSeen > at) {
      row.online = n.online;
      return;
    }
    this.nodes.set(n.nodeId, {
      nodeId: n.nodeId,
      online: n.online,
      ...(at !== undefined && { lastSeen: at }),
      status: n.status as string | null,
      fields,
    });
  }

  /** Tells the views at once if they were last told NOTIFY_MS ago or more (or `now`), else at the end of that wait. */
  private changed(now = false) {
    this.version++;
    const wait = now ? 0 : Math.max(0, this.lastNotify + NOTIFY_MS - Date.now());
    if (wait === 0) clearTimeout(this.notifyTimer);
    else if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.lastNotify = Date.now();
      for (const listener of this.listeners) listener();
    }, wait);
  }
}

interface ShadowDocuments {
  current?: { state?: { reported?: Record<string, unknown> } };
  timestamp?: number;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Whether a live message is the ACK of this command. */
export const isAckOf = (m: LiveMessage, correlationId: string): m is LiveMessage & { payload: Ack } =>
  m.topic.startsWith('ven/ack/') && (m.payload as { correlationId?: unknown }).correlationId === correlationId;

export { MqttWs };
