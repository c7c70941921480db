// The device registry port: what the platform knows of each device it has heard from.
import type { PresenceChange, Session } from './sessions.js';
import type { Page } from '../common/page.js';

export type DeviceKind = 'ven' | 'gateway' | 'winter-river' | 'edge';

export interface Device {
  readonly deviceId: string;
  readonly kind?: DeviceKind;
  /** Connected (presence) and heard from within two of its reporting intervals, judged when read. */
  readonly online: boolean;
  readonly firstSeen?: string;
  /** When its newest message was received (any path). */
  readonly lastSeen?: string;
  /** How often it reports over its connection, as learnt from its heartbeats (a default until then). */
  readonly reportIntervalMs?: number;
  readonly latest?: Record<string, unknown>;
  /** Its recent connections, newest first (presence events). */
  readonly sessions?: readonly Session[];
}

export interface DeviceRegistry {
  /**
   * Registers the device if new, keeps the newest summary (`at`: the sample's time) and when it was heard: `seen`, the
   * receive time of a message over its own connection (default `at`), or null for one that was not (the HTTP fallback),
   * which leaves its online state and reporting interval alone. Never sets `online`: only presence does.
   */
  recordHeartbeat(
    kind: DeviceKind,
    deviceId: string,
    at: number,
    latest: Record<string, unknown>,
    seen?: number | null,
  ): Promise<void>;
  /** Applies a connect/disconnect unless a newer one was already applied; either way folds it into the recent sessions. */
  recordPresence(
    deviceId: string,
    online: boolean,
    at: number,
    session?: Omit<PresenceChange, 'online' | 'at'>,
  ): Promise<void>;
  get(deviceId: string): Promise<Device | undefined>;
  list(kind: DeviceKind, page: { limit: number; next?: string; online?: boolean }): Promise<Page<Device>>;
}

/** Live device state, read from the shadow service itself, never from a copy. */
export interface ShadowReader {
  get(thingName: string): Promise<Record<string, unknown> | undefined>;
}
