// Sessions a stack left open when it did not stop (kill -9): the broker that starts holds no connection, so each one
// still open is closed with a disconnect event through the presence rule, as IoT Core sends one for a connection it lost.
import type { DeviceKind, DeviceRegistry } from '../../../lambdas/core/fleet/registry.js';
import { topics } from '../../../lambdas/core/contracts/topics.js';

const KINDS: readonly DeviceKind[] = ['ven', 'gateway', 'winter-river'];

/** Delivers a `disconnected` presence event for every open session; how many. */
export async function closeOrphanSessions(
  registry: Pick<DeviceRegistry, 'list'>,
  deliver: (topic: string, payload: Buffer) => Promise<void>,
  now = Date.now(),
): Promise<number> {
  let closed = 0;
  for (const kind of KINDS) {
    let next: string | undefined;
    do {
      const page = await registry.list(kind, { limit: 100, ...(next !== undefined && { next }) });
      for (const device of page.items) {
        for (const session of device.sessions ?? []) {
          if (session.disconnected_at || session.connected_at === null || session.session_id === undefined) continue;
          const event = {
            clientId: device.deviceId,
            timestamp: now,
            eventType: 'disconnected',
            sessionIdentifier: session.session_id,
            disconnectReason: 'SERVER_ERROR',
          };
          await deliver(topics.presence('disconnected', device.deviceId), Buffer.from(JSON.stringify(event)));
          closed++;
        }
      }
      next = page.next;
    } while (next !== undefined);
  }
  return closed;
}
