// Follows one command from `sent` to `acked` / `rejected` / `timed-out`: its ACK arrives on the live feed (the
// store re-reads the command at once), and the command is re-read every second meanwhile (the time-out has no message).
import { useApp, useAsync, useInterval, useLiveMessages } from '../context.js';
import type { Command, Dispatch } from '../api/types.js';
import { num } from '../format.js';
import { isAckOf } from '../live/store.js';
import { CommandStatus, ErrorNote } from './ui.js';

export function useCommand<T extends Command | Dispatch>(path: string, correlationId: string) {
  const { api } = useApp();
  const command = useAsync(() => api.get<T>(path), [path]);
  const done = command.data !== undefined && command.data.status !== 'sent';
  useInterval(command.reload, 1000, !done);
  useLiveMessages((m) => isAckOf(m, correlationId) && command.reload(), [correlationId]);
  return command;
}

export function CommandTracker({ correlationId, label }: { correlationId: string; label: string }) {
  const command = useCommand<Command>(`/api/commands/${encodeURIComponent(correlationId)}`, correlationId);
  const c = command.data;
  return (
    <div class="tracker" aria-live="polite" data-status={c?.status ?? 'loading'}>
      <span>{label}: </span>
      {c ? <CommandStatus status={c.status} /> : 'sending…'}
      {c?.latency_ms !== null && c?.latency_ms !== undefined && (
        <span class="muted"> in {num(c.latency_ms, 'ms', 0)}</span>
      )}
      {c?.ack?.op === 'event' && c.ack.status === 'accepted' && (
        <span>
          {' '}
          · shed {num(c.ack.actual_shed_kw, 'kW', 2)} of {num(c.ack.requested_shed_kw, 'kW', 2)} requested
        </span>
      )}
      {c?.status === 'rejected' && c.ack && 'reason' in c.ack && <span> · {String(c.ack.reason)}</span>}
      <span class="muted small"> ({correlationId})</span>
      {command.error && <ErrorNote error={command.error} />}
    </div>
  );
}
