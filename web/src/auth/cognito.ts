// Cognito sign-in on the user pool's hosted domain: authorization code with PKCE (RFC 7636), tokens kept for the
// tab's life in sessionStorage, and a sign-out through the hosted domain. The access token is the bearer for the API
// (API Gateway checks its client_id) and for the live feed (the IoT custom authorizer accepts only access tokens,
// with at least 5 minutes left: IoT's shortest connection), so it is refreshed 6 minutes before it expires.
import type { AwsDashboardConfig } from '../config.js';
import type { Session } from './session.js';

export interface CognitoSession extends Session {
  readonly kind: 'cognito';
}

const REFRESH_BEFORE_MS = 6 * 60_000;

interface Tokens {
  access_token: string;
  refresh_token?: string;
  /** Epoch ms. */
  expires_at: number;
}

const TOKENS = 'vpp.cognito.tokens';
const PENDING = 'vpp.cognito.pending';
const SCOPES = 'openid email profile';

const base64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
const redirectUri = () => `${location.origin}/`;

/**
 * Finishes a sign-in coming back with `?code=…&state=…`, or restores the tab's tokens. Undefined: not signed in
 * (call `startSignIn`).
 */
export async function cognitoSession(config: AwsDashboardConfig): Promise<CognitoSession | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (code) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as {
      state: string;
      verifier: string;
      path: string;
    } | null;
    sessionStorage.removeItem(PENDING);
    if (!pending || pending.state !== params.get('state'))
      throw new Error('The sign-in answer does not match the request: sign in again.');
    const tokens = await tokenRequest(config, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    });
    store(tokens);
    history.replaceState(null, '', pending.path);
  }
  const tokens = load();
  return tokens ? session(config, tokens) : undefined;
}

export async function startSignIn(config: AwsDashboardConfig): Promise<never> {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const path = location.pathname === '/signin' ? '/' : `${location.pathname}${location.search}`;
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, path }));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.userPoolClientId,
    redirect_uri: redirectUri(),
    scope: SCOPES,
    state,
    code_challenge_method: 'S256',
    code_challenge: challenge,
  });
  location.assign(`${config.authDomain}/oauth2/authorize?${query}`);
  return new Promise<never>(() => undefined);
}

function session(config: AwsDashboardConfig, initial: Tokens): CognitoSession {
  let tokens = initial;
  let refreshing: Promise<Tokens> | undefined;
  return {
    kind: 'cognito',
    async token() {
      if (tokens.expires_at - Date.now() > REFRESH_BEFORE_MS) return tokens.access_token;
      if (!tokens.refresh_token) throw new Error('Your sign-in has expired: sign in again.');
      refreshing ??= tokenRequest(config, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
        .then((fresh) => ({ ...fresh, refresh_token: fresh.refresh_token ?? tokens.refresh_token }))
        .finally(() => (refreshing = undefined));
      tokens = await refreshing;
      store(tokens);
      return tokens.access_token;
    },
    signOut() {
      sessionStorage.removeItem(TOKENS);
      const query = new URLSearchParams({ client_id: config.userPoolClientId, logout_uri: redirectUri() });
      location.assign(`${config.authDomain}/logout?${query}`);
    },
  };
}

async function tokenRequest(config: AwsDashboardConfig, form: Record<string, string>): Promise<Tokens> {
  const res = await fetch(`${config.authDomain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: config.userPoolClientId, ...form }),
  });
  if (!res.ok) throw new Error(`Sign-in failed: the token endpoint answered ${res.status}.`);
  const body = (await res.json()) as { access_token: string; refresh_token?: string; expires_in: number };
  return {
    access_token: body.access_token,
    ...(body.refresh_token && { refresh_token: body.refresh_token }),
    expires_at: Date.now() + body.expires_in * 1000,
  };
}

function store(tokens: Tokens) {
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
}

function load(): Tokens | undefined {
  const raw = sessionStorage.getItem(TOKENS);
  return raw ? (JSON.parse(raw) as Tokens) : undefined;
}
