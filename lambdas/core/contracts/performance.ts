// How a DR event's delivery is judged, shared by the settlement and the dashboard (no schema library: the dashboard
// bundles it).

/** An event interval passes when its measured shed is within ±10% of the commitment (the target the allocation aims at). */
export const PERFORMANCE_TOLERANCE = 0.1;
