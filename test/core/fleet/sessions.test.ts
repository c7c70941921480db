// Recent sessions folded from presence events (the DER gateway's GET /agents): table-driven over the event orders IoT Core
// produces, redeliveries included.
import { describe, expect, it } from 'vitest';
import {
  RECENT_SESSIONS,
  foldSession,
  type PresenceChange,
  type Session,
} from '../../../lambdas/core/fleet/sessions.js';

const T = Date.UTC(2026, 0, 1);
const iso = (s: number) => new Date(T + s * 1000).toISOString();
const on = (s: number, id?: string, peer?: string): PresenceChange => ({
  online: true,
  at: T + s * 1000,
  ...(id && { sessionId: id }),
  ...(peer && { peer }),
});
const off = (s: number, id?: string, reason?: string): PresenceChange => ({
  online: false,
  at: T + s * 1000,
  ...(id && { sessionId: id }),
  ...(reason && { reason }),
});
const fold = (...changes: PresenceChange[]) => changes.reduce<Session[]>((acc, c) => foldSession(acc, c) ?? acc, []);

describe('foldSession', () => {
  it.each<[string, PresenceChange[], Session[]]>([
    [
      'a connect opens a session',
      [on(0, 'a', '10.0.0.1')],
      [{ session_id: 'a', peer: '10.0.0.1', connected_at: iso(0) }],
    ],
    [
      'its disconnect closes it with the duration and reason',
      [on(0, 'a', '10.0.0.1'), off(90, 'a', 'CLIENT_INITIATED_DISCONNECT')],
      [
        {
          session_id: 'a',
          peer: '10.0.0.1',
          connected_at: iso(0),
          disconnected_at: iso(90),
          duration_s: 90,
          disconnect_reason: 'CLIENT_INITIATED_DISCONNECT',
        },
      ],
    ],
    [
      'a reconnect is a new session, newest first',
      [on(0, 'a'), off(10, 'a'), on(20, 'b')],
      [
        { session_id: 'b', connected_at: iso(20) },
        { session_id: 'a', connected_at: iso(0), disconnected_at: iso(10), duration_s: 10 },
      ],
    ],
    [
      'a disconnect that arrives after the next connect still closes its own session (matched by id)',
      [on(0, 'a'), on(20, 'b'), off(10, 'a')],
      [
        { session_id: 'b', connected_at: iso(20) },
        { session_id: 'a', connected_at: iso(0), disconnected_at: iso(10), duration_s: 10 },
      ],
    ],
    [
      'a disconnect whose connect was never seen is kept, with no start',
      [off(5, 'x')],
      [{ session_id: 'x', connected_at: null, disconnected_at: iso(5) }],
    ],
    [
      'without session ids a disconnect closes the newest open session',
      [on(0), off(30)],
      [{ connected_at: iso(0), disconnected_at: iso(30), duration_s: 30 }],
    ],
  ])('%s', (_name, changes, expected) => {
    expect(fold(...changes)).toEqual(expected);
  });

  it('a redelivered event changes nothing', () => {
    const opened = fold(on(0, 'a'));
    expect(foldSession(opened, on(0, 'a'))).toBeUndefined();
    const closed = fold(on(0, 'a'), off(10, 'a'));
    expect(foldSession(closed, off(10, 'a'))).toBeUndefined();
  });

  it(`keeps the ${RECENT_SESSIONS} newest`, () => {
    const changes = Array.from({ length: 15 }, (_, i) => [on(i * 10, `s${i}`), off(i * 10 + 5, `s${i}`)]).flat();
    const sessions = fold(...changes);
    expect(sessions.map((s) => s.session_id)).toEqual(Array.from({ length: RECENT_SESSIONS }, (_, i) => `s${14 - i}`));
  });
});
