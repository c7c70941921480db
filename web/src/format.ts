// Numbers with units and times in the operator's own time zone, one way everywhere.

const numberFormats = new Map<number, Intl.NumberFormat>();
const fmt = (digits: number) => {
  let f = numberFormats.get(digits);
  if (!f)
    numberFormats.set(
      digits,
      (f = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 })),
    );
  return f;
};

export const DASH = '—';

/** `1 VEN`, `3 VENs`: a count with its noun, plural unless one. */
export const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function num(value: number | null | undefined, unit: string, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? DASH
    : `${fmt(digits).format(value)} ${unit}`;
}

export const kw = (v: number | null | undefined) => num(v, 'kW');
export const mw = (v: number | null | undefined) => num(v, 'MW', 2);
export const pct = (v: number | null | undefined) => num(v, '%', 0);

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** A time in the operator's zone; `when` is epoch ms or ISO-8601. */
export function time(when: number | string | null | undefined): string {
  if (when === null || when === undefined) return DASH;
  const ms = typeof when === 'number' ? when : Date.parse(when);
  return Number.isFinite(ms) ? timeFormat.format(ms) : DASH;
}

export function clock(ms: number): string {
  return shortTime.format(ms);
}

export function ago(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
