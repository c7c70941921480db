// A VEN's metering over a window, as the shed measurement needs it (see baseline.ts).
import type { MeterSample } from '../analytics/baseline.js';
import type { TelemetryStore } from '../timeseries/telemetry-store.js';

/** Samples read per window (a page is at most 1000), newest first: 6.9 hours of 5-second metering. */
const MAX_SAMPLES = 5000;

export async function meterSamples(
  store: TelemetryStore,
  venId: string,
  start: number,
  end: number,
): Promise<MeterSample[]> {
  const out: MeterSample[] = [];
  let next: string | undefined;
  do {
    const page = await store.query({
      series: 'ven_telemetry',
      deviceId: venId,
      start,
      end,
      limit: 1000,
      ...(next && { next }),
    });
    for (const r of page.items) {
      const { usedPowerKw, baselinePowerKw, eventId } = r.measures;
      if (typeof usedPowerKw !== 'number') continue;
      out.push({
        time: r.time,
        usedPowerKw,
        ...(typeof baselinePowerKw === 'number' && { baselinePowerKw }),
        ...(typeof eventId === 'string' && { eventId }),
      });
    }
    next = page.next;
  } while (next && out.length < MAX_SAMPLES);
  return out;
}
