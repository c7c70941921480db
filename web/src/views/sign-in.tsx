// Signing in: the hosted Cognito page in AWS; locally, the dev token when the page is not on the stack's own origin.
import { useState } from 'preact/hooks';
import { startSignIn } from '../auth/cognito.js';
import { rememberPastedToken, type Session } from '../auth/session.js';
import { ErrorNote, Field } from '../components/ui.js';
import type { DashboardConfig } from '../config.js';

export function SignIn({
  config,
  onSession,
  error,
}: {
  config: DashboardConfig;
  onSession: (s: Session) => void;
  error?: string;
}) {
  const [token, setToken] = useState('');
  return (
    <main class="signin">
      <h1>VPP operations</h1>
      {error && <ErrorNote error={error} />}
      {config.mode === 'aws' ? (
        <>
          <p>Sign in with your operator account.</p>
          <button class="primary" onClick={() => void startSignIn(config)}>
            Sign in
          </button>
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (token.trim()) onSession(rememberPastedToken(token.trim()));
          }}
        >
          <p>
            This page is not on the local stack's own address, so it needs the dev token. On the machine running{' '}
            <code>npm start</code>: <code>node -p 'require("./.vpp/local.json").token'</code> (admin), or{' '}
            <code>.tokens.operator</code> / <code>.tokens.viewer</code> to try a lesser role.
          </p>
          <Field label="Dev token">
            <input
              type="password"
              autocomplete="off"
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
              required
            />
          </Field>
          <button type="submit" class="primary">
            Open the dashboard
          </button>
        </form>
      )}
    </main>
  );
}
