// When a VEN's shadow is worth reporting before its heartbeat (economy profile): something an operator reads from
// it changed. Pure: two reported states in, a reason or null out.

/** The part of `state.reported` (PanelModel.shadowReported) the decision looks at. */
export interface ReportedView {
  readonly power_kw: number;
  readonly shed_kw: number;
  readonly circuits: readonly {
    readonly id: string;
    readonly enabled: boolean;
    readonly critical?: boolean | undefined;
  }[];
  readonly active_event?: { readonly event_id: string } | null;
  readonly reporting_interval_sec: number;
  readonly circuit_enabled: Record<string, boolean>;
}

export type ShadowChange = 'first' | 'circuits' | 'critical' | 'event' | 'interval' | 'power';

/**
 * A material power change: used or shed power moved by at least 1 kW and at least 10% from what the shadow last
 * said. The simulated panel's demand drifts by a few hundred watts between samples; a kettle, a heat pump starting
 * or a circuit going off moves it by a kilowatt or more.
 */
export const MATERIAL_KW = 1;
export const MATERIAL_FRACTION = 0.1;

const material = (before: number, now: number) =>
  Math.abs(now - before) >= Math.max(MATERIAL_KW, MATERIAL_FRACTION * Math.abs(before));

const circuitState = (r: ReportedView) => r.circuits.map((c) => `${c.id}:${c.enabled ? 1 : 0}`).join(',');
const criticalSet = (r: ReportedView) => r.circuits.flatMap((c) => (c.critical ? [c.id] : [])).join(',');

/** Why `now` should be reported although `last` was, or null when it can wait for the heartbeat. */
export function shadowChange(last: ReportedView | undefined, now: ReportedView): ShadowChange | null {
  if (!last) return 'first';
  if ((last.active_event?.event_id ?? null) !== (now.active_event?.event_id ?? null)) return 'event';
  if (
    circuitState(last) !== circuitState(now) ||
    JSON.stringify(last.circuit_enabled) !== JSON.stringify(now.circuit_enabled)
  ) {
    return 'circuits';
  }
  if (criticalSet(last) !== criticalSet(now)) return 'critical';
  if (last.reporting_interval_sec !== now.reporting_interval_sec) return 'interval';
  if (material(last.power_kw, now.power_kw) || material(last.shed_kw, now.shed_kw)) return 'power';
  return null;
}
