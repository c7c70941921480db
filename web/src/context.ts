// What every view reads: the API client, the live store, the session, the operator's role and the configuration.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Role } from '../../lambdas/core/contracts/roles.js';
import type { Api } from './api/client.js';
import type { Session } from './auth/session.js';
import type { DashboardConfig } from './config.js';
import type { LiveMessage, LiveStore } from './live/store.js';

/** The operator's role as `GET /api/me` tells it: `loading` until it answers, undefined `role` for none. */
export interface RoleState {
  readonly loading: boolean;
  readonly role?: Role | undefined;
}

export interface AppContext {
  readonly api: Api;
  readonly live: LiveStore;
  readonly session: Session;
  readonly config: DashboardConfig;
  readonly role: RoleState;
}

export const Ctx = createContext<AppContext>(undefined as never);
export const useApp = () => useContext(Ctx);

/** The live store, re-rendering the caller when it changes (throttled by the store). */
export function useLive(): LiveStore {
  const { live } = useApp();
  const [, setVersion] = useState(0);
  useEffect(() => live.subscribe(() => setVersion((v) => v + 1)), [live]);
  return live;
}

export function useLiveMessages(listener: (m: LiveMessage) => void, deps: unknown[]): void {
  const { live } = useApp();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => live.onMessage((m) => ref.current(m)), [live, ...deps]);
}

export interface Async<T> {
  data?: T;
  error?: string;
  /** The HTTP status of the error, when the API answered (404: no such thing). */
  status?: number;
  loading: boolean;
  reload: () => void;
}

/** Loads once per change of `deps`; `reload` loads again keeping the data shown meanwhile. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: string; status?: number; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (err: Error & { status?: number }) =>
        current && setState((s) => ({ ...s, error: err.message, status: err.status, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Calls `fn` every `ms` while mounted (and `enabled`). */
export function useInterval(fn: () => void, ms: number, enabled = true): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!enabled) return;
    const id = setInterval(() => ref.current(), ms);
    return () => clearInterval(id);
  }, [ms, enabled]);
}

/** The page tokens walked so far of a newest-first list: `next` is the one to load now, undefined on the first page. */
export function usePages() {
  const [pages, setPages] = useState<string[]>([]);
  return {
    next: pages[pages.length - 1],
    first: pages.length === 0,
    older: (token: string) => setPages((p) => [...p, token]),
    newer: () => setPages((p) => p.slice(0, -1)),
    reset: () => setPages([]),
  };
}
