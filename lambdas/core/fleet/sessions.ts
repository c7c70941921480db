// An agent's recent sessions (the DER gateway's `GET /agents`), folded from IoT Core's presence events: a connect opens one,
// the disconnect with the same session id (else the newest open one) closes it. Pure; idempotent under redelivery.

export interface Session {
  readonly session_id?: string;
  /** Where it connected from (the presence event's `ipAddress`). */
  readonly peer?: string;
  /** ISO-8601; null for a disconnect whose connect was never seen. */
  readonly connected_at: string | null;
  readonly disconnected_at?: string;
  readonly duration_s?: number;
  readonly disconnect_reason?: string;
}

export interface PresenceChange {
  readonly online: boolean;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly sessionId?: string;
  readonly peer?: string;
  readonly reason?: string;
}

export const RECENT_SESSIONS = 10;

const iso = (ms: number) => new Date(ms).toISOString();

/** The sessions after the event, newest first; undefined when it changes nothing (a redelivery). */
export function foldSession(sessions: readonly Session[], change: PresenceChange): Session[] | undefined {
  const at = iso(change.at);
  const sameSession = (s: Session) => (change.sessionId !== undefined ? s.session_id === change.sessionId : false);
  if (change.online) {
    if (sessions.some((s) => (change.sessionId !== undefined ? sameSession(s) : s.connected_at === at)))
      return undefined;
    const opened: Session = {
      ...(change.sessionId !== undefined && { session_id: change.sessionId }),
      ...(change.peer !== undefined && { peer: change.peer }),
      connected_at: at,
    };
    return byNewest([opened, ...sessions]);
  }
  const index = sessions.findIndex(
    (s) =>
      sameSession(s) ||
      (change.sessionId === undefined && !s.disconnected_at && s.connected_at !== null && s.connected_at <= at),
  );
  const closed = (s: Session): Session => ({
    ...s,
    disconnected_at: at,
    ...(s.connected_at !== null && {
      duration_s: Math.max(0, Math.round((change.at - Date.parse(s.connected_at)) / 1000)),
    }),
    ...(change.reason !== undefined && { disconnect_reason: change.reason }),
    ...(s.peer === undefined && change.peer !== undefined && { peer: change.peer }),
  });
  if (index >= 0) {
    if (sessions[index]!.disconnected_at) return undefined;
    return sessions.map((s, i) => (i === index ? closed(s) : s));
  }
  const orphan = closed({
    ...(change.sessionId !== undefined && { session_id: change.sessionId }),
    connected_at: null,
  });
  return byNewest([orphan, ...sessions]);
}

const started = (s: Session) => s.connected_at ?? s.disconnected_at ?? '';
const byNewest = (sessions: Session[]) =>
  [...sessions]
    .sort((a, b) => (started(a) < started(b) ? 1 : started(a) > started(b) ? -1 : 0))
    .slice(0, RECENT_SESSIONS);
