// Small presentational pieces shared by the views. Device strings are passed as text children, never as HTML.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { hasRole, type Role } from '../../../lambdas/core/contracts/roles.js';
import { useApp, type Async } from '../context.js';
import type { Connection } from '../live/store.js';
import { clock24 } from './alarms.js';

export function Tile({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div class="tile">
      <div class="tile-label">{label}</div>
      <div class="tile-value">{value}</div>
      {hint && <div class="tile-hint">{hint}</div>}
    </div>
  );
}

export function Badge({
  tone,
  children,
}: {
  tone: 'ok' | 'warn' | 'bad' | 'muted' | 'info';
  children: ComponentChildren;
}) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

const commandTones = {
  sent: 'info',
  acked: 'ok',
  rejected: 'bad',
  'timed-out': 'warn',
  failed: 'bad',
  'not-sent': 'muted',
} as const;
export function CommandStatus({ status }: { status: string }) {
  return <Badge tone={commandTones[status as keyof typeof commandTones] ?? 'muted'}>{status}</Badge>;
}

const connectionText: Record<Connection | 'unreachable', string> = {
  live: 'Live',
  polling: 'Polling',
  connecting: 'Connecting',
  unreachable: 'API unreachable',
};
export function ConnectionIndicator({
  state,
  detail,
  since,
}: {
  state: Connection | 'unreachable';
  detail: string;
  since?: number | undefined;
}) {
  const title =
    state === 'live'
      ? 'Updates are pushed over the live feed'
      : state === 'polling'
        ? `Live feed down (${detail}): polling the API every 5 s`
        : state === 'unreachable'
          ? 'The API does not answer: retrying every 5 s'
          : 'Opening the live feed';
  return (
    <span class={`conn conn-${state}`} role="status" aria-live="polite" title={title} data-connection={state}>
      <span class="conn-dot" aria-hidden="true" />
      {connectionText[state]}
      {state === 'unreachable' && since !== undefined && ` since ${clock24(since)}`}
    </span>
  );
}

export function ErrorNote({ error, action }: { error: string; action?: ComponentChildren }) {
  return (
    <p class="note note-error" role="alert">
      {error} {action}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="note">{children}</p>;
}

/** A modal confirmation: nothing is sent until the operator says so. */
export function Confirm(props: {
  title: string;
  children: ComponentChildren;
  confirm: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-title" onCancel={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="primary" onClick={props.onConfirm}>
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}

export function Field(props: {
  label: string;
  error?: string | undefined;
  children: ComponentChildren;
  hint?: string;
}) {
  return (
    <label class="field">
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.hint && <span class="field-hint">{props.hint}</span>}
      {props.error && (
        <span class="field-error" role="alert">
          {props.error}
        </span>
      )}
    </label>
  );
}

/**
 * Renders its children only for an operator whose role allows them (the API refuses the rest anyway); others get
 * a short note instead, and nothing shows while the role is being asked for.
 */
export function RequiresRole({ role, what, children }: { role: Role; what: string; children: ComponentChildren }) {
  const { role: mine } = useApp();
  if (mine.loading) return null;
  if (hasRole(mine.role, role)) return <>{children}</>;
  return (
    <p class="note" data-testid="role-note">
      {mine.role ? `Signed in as ${mine.role}` : 'Your account has no role'}: {what} needs the {role} role. Ask an
      administrator to add you to the {role} group.
    </p>
  );
}

/** Newer / Older buttons for a paged list. */
export function Pager({
  first,
  next,
  onNewer,
  onOlder,
}: {
  first: boolean;
  next?: string | undefined;
  onNewer: () => void;
  onOlder: (token: string) => void;
}) {
  return (
    <div class="toolbar">
      {!first && <button onClick={onNewer}>Newer</button>}
      {next && <button onClick={() => onOlder(next)}>Older</button>}
    </div>
  );
}

/**
 * A section's loaded states in one place: loading, an error with a retry (a 404 says the thing is not known), then
 * the content.
 */
export function Loaded<T>({
  state,
  notFound,
  children,
}: {
  state: Async<T>;
  notFound: string;
  children: (data: T) => ComponentChildren;
}) {
  if (state.error && state.status === 404) return <ErrorNote error={`${notFound} (${state.error})`} />;
  if (state.error) return <ErrorNote error={state.error} action={<button onClick={state.reload}>Retry</button>} />;
  if (state.data === undefined)
    return (
      <p class="muted" aria-busy="true">
        Loading…
      </p>
    );
  return <>{children(state.data)}</>;
}
