// Whether a VEN's numbers on the dashboard are current: online (the API's word: connected and heard from lately) and
// its newest reading no older than two of its reporting intervals.
import type { VenRow } from './store.js';

/** Two 5-s reporting intervals and a margin: past this a VEN's numbers are not current, until the API says its interval. */
export const STALE_MS = 15_000;
/** Past two of the VEN's own reporting intervals (as the API learnt them) and this margin, its numbers are not current. */
const STALE_MARGIN_MS = 5_000;
export const staleAfterMs = (v: VenRow): number =>
  v.reportIntervalMs ? 2 * v.reportIntervalMs + STALE_MARGIN_MS : STALE_MS;

export type VenState = 'online' | 'stale' | 'offline';
export const venState = (v: VenRow, now: number): VenState =>
  !v.online ? 'offline' : v.lastSeen === undefined || now - v.lastSeen > staleAfterMs(v) ? 'stale' : 'online';
