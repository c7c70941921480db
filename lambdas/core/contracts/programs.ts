// A demand-response program on the wire (`POST /api/programs`, `PATCH /api/programs/{id}`, what `GET` returns): the
// market terms its events run under. Its days are local days of its IANA time zone; docs/concepts.md, "Programs".
import * as z from 'zod';
import { THING_NAME } from './topics.js';

/** A zone the runtime knows (`America/Los_Angeles`, `UTC`), in its canonical spelling; undefined for any other. */
export function canonicalTimeZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .transform((zone, ctx) => {
    const canonical = canonicalTimeZone(zone);
    if (canonical === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown time zone ${JSON.stringify(zone)}: an IANA name such as America/Los_Angeles or UTC`,
      });
      return z.NEVER;
    }
    return canonical;
  });

/** A calendar date, `YYYY-MM-DD`, that exists. */
export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'must be a date that exists');

const days = (max: number) => z.number().int().min(1).max(max);

/** n of the m most recent eligible days of one day type: the n with the highest load in the event window. */
const nOfM = z
  .strictObject({ n: days(30), m: days(30) })
  .refine((r) => r.n <= r.m, { message: 'n must not exceed m', path: ['n'] });

export const baselineRuleSchema = z.strictObject({
  /** An event on a weekday (Monday–Friday, not a holiday) is baselined on weekdays. */
  weekday: nOfM.default({ n: 10, m: 10 }),
  /** An event on a Saturday, Sunday or holiday is baselined on Saturdays, Sundays and holidays. */
  weekend_holiday: nOfM.default({ n: 10, m: 10 }),
  /** Calendar days searched back for eligible days. */
  lookback_days: days(90).default(21),
  /**
   * The same-day adjustment: the event day's load from `window_start_min` to `window_end_min` minutes before the start
   * over the eligible days' in the same window, capped to 1 ± `cap`. null: no adjustment.
   */
  adjustment: z
    .strictObject({
      window_start_min: z.number().int().min(1).max(1440).default(240),
      window_end_min: z.number().int().min(0).max(1439).default(60),
      cap: z.number().min(0).max(1).default(0.2),
    })
    .refine((a) => a.window_end_min < a.window_start_min, {
      message: 'must be less than window_start_min',
      path: ['window_end_min'],
    })
    .nullable()
    .default({ window_start_min: 240, window_end_min: 60, cap: 0.2 }),
});
export type BaselineRule = z.infer<typeof baselineRuleSchema>;

/** `us-federal`: the US federal holidays by rule, on their observed dates; `none`; or the program's own list. */
export const holidaysSchema = z.union([z.enum(['us-federal', 'none']), z.array(isoDateSchema).max(1000)]);
export type Holidays = z.infer<typeof holidaysSchema>;

const minutes = z
  .number()
  .int()
  .min(0)
  .max(7 * 1440);
export const eventLimitsSchema = z
  .strictObject({
    /** How long before its start an event must be announced. */
    notice_min: minutes.default(0),
    min_duration_min: z
      .number()
      .int()
      .min(0)
      .max(7 * 1440)
      .default(0),
    max_duration_min: z
      .number()
      .int()
      .min(1)
      .max(7 * 1440)
      .default(7 * 1440),
    /** Events per local day of the program's time zone. */
    max_events_per_day: z.number().int().min(1).max(100).optional(),
    /** Events per season (`season`, else the calendar year, in local days). */
    max_events_per_season: z.number().int().min(1).max(10_000).optional(),
    /** The season, month and day inclusive (`06-01` to `09-30`); may wrap the year end. */
    season: z
      .strictObject({
        from: z.string().regex(/^\d{2}-\d{2}$/, 'must be MM-DD'),
        to: z.string().regex(/^\d{2}-\d{2}$/, 'must be MM-DD'),
      })
      .optional(),
  })
  .refine((l) => l.min_duration_min <= l.max_duration_min, {
    message: 'must not exceed max_duration_min',
    path: ['min_duration_min'],
  });
export type EventLimits = z.infer<typeof eventLimitsSchema>;

const thingName = z.string().regex(THING_NAME, 'must be a thing name (a-z A-Z 0-9 : _ -)');
const unique = <T extends z.ZodType<string>>(item: T, max: number, what: string) =>
  z
    .array(item)
    .max(max)
    .refine((ids) => new Set(ids).size === ids.length, `must not repeat a ${what}`);

export const PROGRAM_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** The built-in program of every event that names none: UTC days, 10-of-10 on either day type, no holidays. */
export const DEFAULT_PROGRAM_ID = 'default';

const programFields = {
  name: z.string().trim().min(1).max(200),
  /** The utility or market the program belongs to. */
  market: z.string().trim().min(1).max(200),
  time_zone: timeZoneSchema,
  baseline: baselineRuleSchema.default(baselineRuleSchema.parse({})),
  holidays: holidaysSchema.default('us-federal'),
  limits: eventLimitsSchema.default(eventLimitsSchema.parse({})),
  /** What a delivered kWh earns in an event of the program. */
  price_per_kwh: z.number().min(0).max(1_000_000),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
    .default('USD'),
  ven_ids: unique(thingName, 10_000, 'VEN').default([]),
  site_ids: unique(z.string().min(1).max(128), 10_000, 'site').default([]),
};

/** `POST /api/programs`: `program_id` optional (a slug; one is made up when absent). */
export const programBodySchema = z.strictObject({
  program_id: z
    .string()
    .regex(PROGRAM_ID, 'must be 1-64 characters of a-z 0-9 -, starting with a letter or digit')
    .refine((id) => id !== DEFAULT_PROGRAM_ID, `${DEFAULT_PROGRAM_ID} is the built-in program`)
    .optional(),
  ...programFields,
});

/** `PATCH /api/programs/{id}`: any of the fields, each replacing the stored one whole. */
export const programPatchSchema = z
  .strictObject({
    name: programFields.name,
    market: programFields.market,
    time_zone: timeZoneSchema,
    baseline: baselineRuleSchema,
    holidays: holidaysSchema,
    limits: eventLimitsSchema,
    price_per_kwh: programFields.price_per_kwh,
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
    ven_ids: unique(thingName, 10_000, 'VEN'),
    site_ids: unique(z.string().min(1).max(128), 10_000, 'site'),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'name at least one field to change');

export type ProgramBody = z.infer<typeof programBodySchema>;

/** A program as stored and returned. `price_per_kwh` null: the built-in program, priced by each VEN's tariff. */
export interface Program extends Omit<ProgramBody, 'program_id' | 'price_per_kwh'> {
  readonly program_id: string;
  readonly price_per_kwh: number | null;
  readonly version: number;
  readonly created_at: string;
  readonly updated_at: string;
  readonly built_in?: true;
}

/** The market terms an event keeps from its program when it starts (its report and settlement use these). */
export type ProgramTerms = Pick<
  Program,
  'program_id' | 'time_zone' | 'baseline' | 'holidays' | 'price_per_kwh' | 'currency'
>;

export const DEFAULT_PROGRAM: Program = {
  program_id: DEFAULT_PROGRAM_ID,
  name: 'Default',
  market: 'operator',
  time_zone: 'UTC',
  baseline: baselineRuleSchema.parse({}),
  holidays: 'none',
  limits: eventLimitsSchema.parse({}),
  price_per_kwh: null,
  currency: 'USD',
  ven_ids: [],
  site_ids: [],
  version: 1,
  created_at: '1970-01-01T00:00:00.000Z',
  updated_at: '1970-01-01T00:00:00.000Z',
  built_in: true,
};

export const termsOf = (p: Program): ProgramTerms => ({
  program_id: p.program_id,
  time_zone: p.time_zone,
  baseline: p.baseline,
  holidays: p.holidays,
  price_per_kwh: p.price_per_kwh,
  currency: p.currency,
});
