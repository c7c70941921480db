// Every MQTT topic of the platform, defined once. A topic string literal anywhere else is a bug.

export const METERING_TOPIC = 'volttron/metering';

/** The metering rule's name (rules.ts): its Basic Ingest topic carries it. */
export const METERING_RULE = 'metering';

/**
 * Basic Ingest (AWS IoT Core): a publish on `$aws/rules/{ruleName}/{topic}` goes to that one rule and nowhere else,
 * with no messaging charge. Nobody can subscribe to it; inside the rule, topic() is `{topic}` without the prefix.
 */
export const BASIC_INGEST_PREFIX = '$aws/rules/';

export const basicIngestTopic = (ruleName: string, topic: string) => `${BASIC_INGEST_PREFIX}${ruleName}/${topic}`;

/** `$aws/rules/{ruleName}/{topic}` → its parts, or undefined for any other topic. */
export function parseBasicIngestTopic(topic: string): { ruleName: string; topic: string } | undefined {
  if (!topic.startsWith(BASIC_INGEST_PREFIX)) return undefined;
  const rest = topic.slice(BASIC_INGEST_PREFIX.length);
  const slash = rest.indexOf('/');
  const ruleName = slash < 0 ? rest : rest.slice(0, slash);
  return ruleName ? { ruleName, topic: slash < 0 ? '' : rest.slice(slash + 1) } : undefined;
}

export const topics = {
  metering: METERING_TOPIC,
  /** The same metering through Basic Ingest: rule `metering` only, no broker, no messaging charge. */
  meteringBasicIngest: basicIngestTopic(METERING_RULE, METERING_TOPIC),
  telemetry: (venId: string) => `ven/telemetry/${venId}`,
  /** A site gateway's per-asset DER telemetry (derGatewayTelemetrySchema): rule `der` and the dashboard's live feed. */
  derTelemetry: (gatewayThing: string) => `der/telemetry/${gatewayThing}`,
  ack: (venId: string) => `ven/ack/${venId}`,
  loads: (venId: string) => `ven/loads/${venId}`,
  command: (venId: string) => `ven/cmd/${venId}`,
  winterRiverStatus: (nodeId: string) => `winter-river/${nodeId}/status`,
  winterRiverCommand: (nodeId: string) => `winter-river/${nodeId}/command`,
  /** A data-centre edge node's telemetry (QoS 0), status, commands (QoS 1) and its ACKs of them (edge-schemas.ts). */
  edgeTelemetry: (dcId: string) => `edge/${dcId}/telemetry`,
  edgeStatus: (dcId: string) => `edge/${dcId}/status`,
  edgeControl: (dcId: string) => `edge/${dcId}/control`,
  edgeAck: (dcId: string) => `edge/${dcId}/ack`,
  shadow: (thingName: string, op: ShadowOp) => `$aws/things/${thingName}/shadow/${op}`,
  presence: (event: 'connected' | 'disconnected', clientId: string) => `$aws/events/presence/${event}/${clientId}`,
  /** IoT Jobs (device side): `{job}` is a job id or `$next`; see parseJobsTopic for the operations. */
  jobs: (thingName: string, op: 'notify-next' | `${string}/${JobsOp}`) => `$aws/things/${thingName}/jobs/${op}`,
} as const;

/** The IoT Jobs operations on `$aws/things/{thing}/jobs/{jobId | $next}/…` a device requests (and their answers). */
export type JobsOp = 'get' | 'get/accepted' | 'get/rejected' | 'update' | 'update/accepted' | 'update/rejected';

/** `$aws/things/{thing}/jobs/{jobId|$next}/{op}` or `…/jobs/notify-next` → its parts, or undefined. */
export function parseJobsTopic(
  topic: string,
): { thingName: string; op: 'notify-next' } | { thingName: string; jobId: string; op: JobsOp } | undefined {
  const notify = /^\$aws\/things\/([^/]+)\/jobs\/notify-next$/.exec(topic);
  if (notify) return { thingName: notify[1]!, op: 'notify-next' };
  const m = /^\$aws\/things\/([^/]+)\/jobs\/([^/]+)\/((?:get|update)(?:\/(?:accepted|rejected))?)$/.exec(topic);
  return m ? { thingName: m[1]!, jobId: m[2]!, op: m[3] as JobsOp } : undefined;
}

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

/**
 * AWS IoT's fleet provisioning MQTT API (the device SDK's `iotidentity` client speaks it): a certificate from the
 * device's CSR, then RegisterThing through a provisioning template. Each request is answered on `…/accepted` or
 * `…/rejected`, to the requesting connection only. The local stack serves the same topics.
 */
export const provisioningTopics = {
  createFromCsr: '$aws/certificates/create-from-csr/json',
  provision: (template: string) => `$aws/provisioning-templates/${template}/provision/json`,
  accepted: (request: string) => `${request}/accepted`,
  rejected: (request: string) => `${request}/rejected`,
} as const;

/** `$aws/provisioning-templates/{template}/provision/json` → the template's name, or undefined. */
export function parseProvisionTopic(topic: string): string | undefined {
  return /^\$aws\/provisioning-templates\/([^/]+)\/provision\/json$/.exec(topic)?.[1];
}

/** Filters the backend's rules listen on. */
export const filters = {
  metering: METERING_TOPIC,
  ack: 'ven/ack/+',
  derTelemetry: 'der/telemetry/+',
  winterRiver: 'winter-river/#',
  /** Edge nodes: rule `edge` takes `telemetry`, `status` and `ack` (never `control`, the backend's own). */
  edge: 'edge/+/+',
  presenceConnected: '$aws/events/presence/connected/+',
  presenceDisconnected: '$aws/events/presence/disconnected/+',
} as const;

/** `$aws/things/{thing}/shadow/{op}` → its parts, or undefined for any other topic (named shadows included). */
export function parseShadowTopic(topic: string): { thingName: string; op: ShadowOp } | undefined {
  const m =
    /^\$aws\/things\/([^/]+)\/shadow\/((?:update|get|delete)(?:\/(?:accepted|rejected|delta|documents))?)$/.exec(topic);
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
