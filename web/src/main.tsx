// Start-up: read /config.json, restore or start the session, then open the API client and the live feed.
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { Role } from '../../lambdas/core/contracts/roles.js';
import { Api } from './api/client.js';
import { restoreSession, type Session } from './auth/session.js';
import { liveUrl, loadConfig, type DashboardConfig } from './config.js';
import { Ctx, type AppContext, type RoleState } from './context.js';
import { LiveStore } from './live/store.js';
import { MqttWs } from './live/mqtt-ws.js';
import { App } from './app.js';
import { interceptLinks, navigate } from './router.js';
import { SignIn } from './views/sign-in.js';
import './styles.css';

const root = document.getElementById('app')!;

function connect(config: DashboardConfig, session: Session): Omit<AppContext, 'role'> {
  const api = new Api(config.apiUrl.replace(/\/$/, ''), session);
  const live = new LiveStore(api, async (handlers) => {
    const token = await session.token();
    const clientId = `operator-${crypto.getRandomValues(new Uint32Array(2)).join('')}`;
    const client = new MqttWs({
      url: liveUrl(config, token),
      clientId,
      ...(config.mode === 'local' && { username: 'operator', password: token }),
      ...handlers,
    });
    await client.connect();
    return client;
  });
  return { api, live, session, config };
}

function Root({ config, initial, error }: { config: DashboardConfig; initial?: Session; error?: string }) {
  const [role, setRole] = useState<RoleState>({ loading: true });
  const [app, setApp] = useState<Omit<AppContext, 'role'> | undefined>(() =>
    initial ? start(config, initial) : undefined,
  );
  const ctx = useMemo(() => app && { ...app, role }, [app, role]);
  const [signInError, setSignInError] = useState(error);
  function start(c: DashboardConfig, session: Session) {
    const app = connect(c, session);
    // The same for a dev token and a Cognito token: the API says which role the token carries (none: a 403).
    app.api.get<{ role?: Role }>('/api/me').then(
      ({ role }) => setRole({ loading: false, role }),
      () => setRole({ loading: false }),
    );
    app.api.onUnauthorized = () => {
      app.live.stop();
      setSignInError('Your session is no longer valid: sign in again.');
      setRole({ loading: true });
      setApp(undefined);
    };
    app.api.onReachability = (answered) => app.live.reachable(answered);
    app.live.start();
    if (location.pathname === '/signin') navigate('/', true);
    return app;
  }
  if (!ctx) return <SignIn config={config} error={signInError} onSession={(s) => setApp(start(config, s))} />;
  return (
    <Ctx.Provider value={ctx}>
      <App />
    </Ctx.Provider>
  );
}

async function main() {
  interceptLinks();
  let config: DashboardConfig;
  try {
    config = await loadConfig();
  } catch (err) {
    root.textContent = `The dashboard cannot start: ${(err as Error).message}. Is the platform running?`;
    return;
  }
  try {
    const session = await restoreSession(config);
    render(<Root config={config} {...(session && { initial: session })} />, root);
  } catch (err) {
    render(<Root config={config} error={(err as Error).message} />, root);
  }
}

void main();
