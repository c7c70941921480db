// Every MQTT topic of the platform, defined once. A topic string literal anywhere else is a bug.

export const METERING_TOPIC = 'volttron/metering';

export const topics = {
  metering: METERING_TOPIC,
  telemetry: (venId: string) => `ven/telemetry/${venId}`,
  ack: (venId: string) => `ven/ack/${venId}`,
  loads: (venId: string) => `ven/loads/${venId}`,
  command: (venId: string) => `ven/cmd/${venId}`,
  winterRiverStatus: (nodeId: string) => `winter-river/${nodeId}/status`,
  winterRiverCommand: (nodeId: string) => `winter-river/${nodeId}/command`,
  shadow: (thingName: string, op: ShadowOp) => `$aws/things/${thingName}/shadow/${op}`,
  presence: (event: 'connected' | 'disconnected', clientId: string) => `$aws/events/presence/${event}/${clientId}`,
} as const;

export type ShadowOp =
  | 'update'
  | 'update/accepted'
  | 'update/rejected'
  | 'update/delta'
  | 'update/documents'
  | 'get'
  | 'get/accepted'
  | 'get/rejected'
  | 'delete'
  | 'delete/accepted'
  | 'delete/rejected';

/** Filters the backend's rules listen on. */
export const filters = {
  metering: METERING_TOPIC,
  ack: 'ven/ack/+',
  winterRiver: 'winter-river/#',
  presenceConnected: '$aws/events/presence/connected/+',
  presenceDisconnected: '$aws/events/presence/disconnected/+',
} as const;

/** `$aws/things/{thing}/shadow/{op}` → its parts, or undefined for any other topic (named shadows included). */
export function parseShadowTopic(topic: string): { thingName: string; op: ShadowOp } | undefined {
  const m = /^\$aws\/things\/([^/]+)\/shadow\/((?:update|get|delete)(?:\/(?:accepted|rejected|delta|documents))?)$/.exec(
    topic,
  );
  return m ? { thingName: m[1]!, op: m[2] as ShadowOp } : undefined;
}

/** MQTT topic filter matching (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Thing names as AWS IoT allows them; also what a device id may be anywhere in the platform. */
export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
