// What the operator must see first, at the top of every view: alarms computed from the fleet's own state, and an
// honest outage state when the API cannot be reached. Device strings are text children.
import { useEffect, useState } from 'preact/hooks';
import { fleetAlarms, type Alarm } from '../live/alarms.js';
import type { LiveStore } from '../live/store.js';

const hms = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
export const clock24 = (ms: number) => hms.format(ms);

/** The alarms now, recomputed on every change of the store and every 5 s (a VEN's "recently seen" moves on). */
export function useAlarms(live: LiveStore): Alarm[] {
  const [, tick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => tick((t) => t + 1), 5000);
    return () => clearInterval(id);
  }, []);
  return fleetAlarms(live, Date.now());
}

export function AlarmBanner({ alarms }: { alarms: Alarm[] }) {
  if (alarms.length === 0) return null;
  return (
    <section id="alarms" class="alarms" aria-label="Alarms">
      {alarms.map((a) => (
        <p key={a.id} class={`alarm alarm-${a.severity}`} role="alert" data-alarm={a.id}>
          <strong>{a.text}</strong> <a href={a.href}>{a.linkText}</a>
        </p>
      ))}
    </section>
  );
}

/** The count in the navigation, linking to the banner. */
export function AlarmCount({ alarms }: { alarms: Alarm[] }) {
  if (alarms.length === 0) return null;
  return (
    <a class="nav-alarms" href="#alarms">
      {alarms.length === 1 ? '1 alarm' : `${alarms.length} alarms`}
    </a>
  );
}

/** While the API does not answer: since when, and how old the numbers below are. */
export function OutageBanner({ live }: { live: LiveStore }) {
  if (live.apiDownSince === undefined) return null;
  return (
    <p id="outage" class="alarm alarm-critical outage" role="alert">
      <strong>API unreachable since {clock24(live.apiDownSince)}.</strong>{' '}
      {live.asOf !== undefined
        ? `Values below are as of ${clock24(live.asOf)} and may be out of date.`
        : 'No values have loaded yet.'}{' '}
      The dashboard keeps trying and returns to normal by itself.
    </p>
  );
}
