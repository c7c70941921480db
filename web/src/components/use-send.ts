// Sending a command safely: each command carries an Idempotency-Key, the same key again when the operator retries
// after the network failed (the first request may have reached the platform: the API then answers its first response
// instead of acting twice), and one request at a time, `busy` meanwhile so the buttons can say so.
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { useApp } from '../context.js';

/** Worth retrying with the same key: no answer at all, or the first request with this key is still under way. */
const unsettled = (err: unknown) =>
  err instanceof ApiError && (err.status === 0 || err.status === 409 || err.status >= 502);

export function useSend() {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  /** The key of the command last tried and not settled, by what it asked (path and body). */
  const pending = useRef<{ request: string; key: string }>();
  async function send<T>(path: string, body: unknown): Promise<T | undefined> {
    if (inFlight.current) return undefined; // a double click
    inFlight.current = true;
    setBusy(true);
    const request = `${path} ${JSON.stringify(body)}`;
    if (pending.current?.request !== request) pending.current = { request, key: crypto.randomUUID() };
    try {
      const res = await api.post<T>(path, body, pending.current.key);
      pending.current = undefined;
      return res;
    } catch (err) {
      if (!unsettled(err)) pending.current = undefined;
      throw err;
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }
  return { busy, send };
}
