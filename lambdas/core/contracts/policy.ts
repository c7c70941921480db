// The device policy, defined once: the CDK stack renders it as an AWS IoT policy with
// `${iot:Connection.Thing.ThingName}`, the local broker enforces it per connection.
import { METERING_TOPIC, parseJobsTopic, parseShadowTopic, provisioningTopics, topics } from './topics.js';

/** `{thing}` is the connected thing's name; a trailing `*` matches any suffix, as in IoT policy resources. */
export const devicePolicy = {
  publish: [
    METERING_TOPIC,
    // Basic Ingest to the metering rule only (the rule checks venId = client id as on the plain topic).
    topics.meteringBasicIngest,
    'ven/telemetry/{thing}',
    'der/telemetry/{thing}',
    'ven/ack/{thing}',
    'ven/loads/{thing}',
    'winter-river/{thing}/status',
    // a data-centre edge node: its telemetry, status and command ACKs, under its own name only
    'edge/{thing}/telemetry',
    'edge/{thing}/status',
    'edge/{thing}/ack',
    // its own shadow and jobs requests (IoT takes only requests there: see isDeviceRequest), in one resource so the
    // rendered policy stays inside IoT's size limit
    '$aws/things/{thing}/*',
  ],
  subscribe: ['ven/cmd/{thing}', 'winter-river/{thing}/command', 'edge/{thing}/control', '$aws/things/{thing}/*'],
} as const;

/**
 * IoT Core's reserved topics under `$aws/things/{thing}/` take a device's publish only on request topics (shadow
 * update/get/delete, jobs get/update); answers and notifications are IoT's own, whatever the policy says.
 */
export function isDeviceRequest(topic: string): boolean {
  if (!topic.startsWith('$aws/things/')) return true;
  const shadow = parseShadowTopic(topic);
  if (shadow) return !shadow.op.includes('/');
  const jobs = parseJobsTopic(topic);
  return jobs !== undefined && (jobs.op === 'get' || jobs.op === 'update');
}

export type PolicyAction = keyof typeof devicePolicy;

/**
 * IoT policy semantics: a topic (publish) or a topic filter taken literally (subscribe) must match a
 * resource pattern. `ven/cmd/+` is not `ven/cmd/ven-001`, so wildcards cannot widen a device's reach.
 */
export function isAllowed(action: PolicyAction, thingName: string, topicOrFilter: string): boolean {
  if (action === 'publish' && !isDeviceRequest(topicOrFilter)) return false;
  return devicePolicy[action].some((pattern) => {
    const resource = pattern.replaceAll('{thing}', thingName);
    return resource.endsWith('*') ? topicOrFilter.startsWith(resource.slice(0, -1)) : topicOrFilter === resource;
  });
}

/**
 * Client ids of devices provisioning with the claim certificate (`claim-<serial>`): the claim policy connects only
 * these, so a holder of the shared claim certificate can never take a provisioned device's client id (and drop it).
 */
export const CLAIM_CLIENT_PREFIX = 'claim-';

/**
 * The claim certificate's policy (fleet provisioning by claim): only the provisioning topics of one template, the CSR
 * exchange and RegisterThing, each request with its two answers. `{template}` is the provisioning template's name.
 */
export const claimPolicy = {
  publish: [provisioningTopics.createFromCsr, provisioningTopics.provision('{template}')],
  subscribe: [
    provisioningTopics.accepted(provisioningTopics.createFromCsr),
    provisioningTopics.rejected(provisioningTopics.createFromCsr),
    provisioningTopics.accepted(provisioningTopics.provision('{template}')),
    provisioningTopics.rejected(provisioningTopics.provision('{template}')),
  ],
} as const;

/** What a claim certificate may do: exactly the topics of `claimPolicy` for this template, filters taken literally. */
export function isClaimAllowed(action: PolicyAction, template: string, topicOrFilter: string): boolean {
  return claimPolicy[action].some((pattern) => pattern.replaceAll('{template}', template) === topicOrFilter);
}

/** The dashboard's client ids (`operator-<random>`); no thing name may start so. */
export const OPERATOR_CLIENT_PREFIX = 'operator-';

/**
 * What the operator dashboard may subscribe to over MQTT-over-WebSocket (read only, no publish), each filter taken
 * literally as for devices. The local broker checks this list; in AWS the IoT custom authorizer
 * (lambdas/iot-authorizer) renders it as the operator's policy.
 */
export const operatorSubscribeFilters = [
  'volttron/metering',
  // VENs' telemetry copy (volttron profile); gateways before the der topic published their site here too.
  'ven/telemetry/+',
  // Gateways publish their per-asset DER telemetry here; the dashboard's sites view reads it.
  'der/telemetry/+',
  'ven/ack/+',
  'winter-river/+/status',
  '$aws/things/+/shadow/update/documents',
] as const;
