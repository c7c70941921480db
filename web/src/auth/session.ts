// Who the operator is: a bearer token for the API and the live feed. Locally the local stack hands its dev token to
// a page on its own loopback origin (or the operator pastes it); in AWS it is a Cognito sign-in (code + PKCE).
import type { DashboardConfig } from '../config.js';
import { cognitoSession, type CognitoSession } from './cognito.js';

export interface Session {
  /** A valid bearer token, refreshed first when it is about to expire. */
  token(): Promise<string>;
  signOut(): void;
  readonly kind: 'local' | 'cognito';
}

const PASTED = 'vpp.localToken';

/** Resolves to a session, or to undefined when the operator must sign in first. */
export async function restoreSession(config: DashboardConfig): Promise<Session | undefined> {
  if (config.mode === 'aws') return cognitoSession(config);
  const pasted = sessionStorage.getItem(PASTED);
  const token = pasted ?? (await loopbackToken());
  return token ? localSession(token) : undefined;
}

export function localSession(token: string): Session {
  return {
    kind: 'local',
    token: async () => token,
    signOut() {
      sessionStorage.removeItem(PASTED);
      location.assign('/signin');
    },
  };
}

export function rememberPastedToken(token: string): Session {
  sessionStorage.setItem(PASTED, token);
  return localSession(token);
}

/** The local stack answers only a same-origin request from its own machine. */
async function loopbackToken(): Promise<string | undefined> {
  try {
    const res = await fetch('/local/session', { method: 'POST' });
    return res.ok ? ((await res.json()) as { token: string }).token : undefined;
  } catch {
    return undefined;
  }
}

export type { CognitoSession };
