import * as z from "zod";

/**
 * One billed run of a resource: a session's broadcast, a destination's channel, a source's flow
 * ACTIVE. Records keep their closed runs (the cost report clips them to its window and splits
 * them by day), written in the same conditional update that adds the run to the record's total,
 * so a retried write never counts a run twice.
 */
export const UsageRun = z.object({ from: z.string(), to: z.string() });
export type UsageRun = z.infer<typeof UsageRun>;

/** The cost report's longest window: runs that ended before it are dropped from records. */
export const USAGE_WINDOW_DAYS = 90;
/** At most this many runs per record (about 60 bytes each, far below DynamoDB's 400 KB item). */
export const MAX_USAGE_RUNS = 1000;

const DAY_MS = 24 * 3600 * 1000;

/**
 * A record written before runs were kept has a total and no runs: its total becomes one run,
 * ending at its last update (or before `by`, the start of a run being closed now).
 */
function legacyRun(before: { totalSeconds: number; updatedAt: string }, by?: string): UsageRun[] {
  if (before.totalSeconds <= 0) return [];
  const to = Math.min(Date.parse(before.updatedAt), by ? Date.parse(by) : Number.POSITIVE_INFINITY);
  return [{ from: new Date(to - before.totalSeconds * 1000).toISOString(), to: new Date(to).toISOString() }];
}

/**
 * The record's runs with the run `from`-`to` added, and those older than the report's window
 * dropped. `before` is the record as read: its runs, and its total before this run (a record
 * that kept no runs yet turns that total into one, so the report does not lose it).
 */
export function withRun(
  before: { runs?: readonly UsageRun[] | undefined; totalSeconds: number; updatedAt: string },
  from: string,
  to: string,
): UsageRun[] {
  const oldest = Date.parse(to) - USAGE_WINDOW_DAYS * DAY_MS;
  const runs = before.runs ?? legacyRun(before, from);
  return [...runs, { from, to }].filter((r) => Date.parse(r.to) >= oldest).slice(-MAX_USAGE_RUNS);
}

/**
 * A record's usage once the run `since`-`to` is closed: its total with the run's seconds added,
 * and its runs with the run kept (`withRun`). `before` is the record as read.
 */
export function closeUsage(
  before: { runs?: readonly UsageRun[] | undefined; totalSeconds: number; updatedAt: string },
  since: string,
  to: Date,
): { totalSeconds: number; runs: UsageRun[] } {
  return {
    totalSeconds: before.totalSeconds + secondsBetween(since, to),
    runs: withRun(before, since, to.toISOString()),
  };
}

/** Seconds between two ISO times (0 when `to` is before `from`). */
export const secondsBetween = (from: string, to: string | Date) =>
  Math.max(0, (typeof to === "string" ? Date.parse(to) : to.getTime()) - Date.parse(from)) / 1000;

/**
 * The runs of a record for the cost report: its closed runs, the run still open (`since`, until
 * `now`) and, for a record written before runs were kept, its whole total as one run ending at
 * its last update (so nothing counted before is lost from the report).
 */
export function runsOf(record: {
  runs?: readonly UsageRun[] | undefined;
  totalSeconds: number;
  since?: string | undefined;
  updatedAt: string;
  now: Date;
}): UsageRun[] {
  const runs = [...(record.runs ?? legacyRun(record))];
  if (record.since) runs.push({ from: record.since, to: record.now.toISOString() });
  return runs;
}

/** The union of overlapping runs (one shared channel runs while any of its destinations does). */
export function mergeRuns(runs: readonly UsageRun[]): UsageRun[] {
  const sorted = [...runs].sort((a, b) => a.from.localeCompare(b.from));
  const merged: UsageRun[] = [];
  for (const r of sorted) {
    const last = merged.at(-1);
    if (last && r.from <= last.to) {
      if (r.to > last.to) merged[merged.length - 1] = { from: last.from, to: r.to };
    } else merged.push({ ...r });
  }
  return merged;
}

export interface Metered {
  /** Seconds run inside the window. */
  readonly seconds: number;
  /** Seconds billed inside the window: each run that starts in it is billed at least `minimumSeconds`. */
  readonly billedSeconds: number;
  /** Runs that started inside the window. */
  readonly starts: number;
  /** Seconds run and billed per UTC day (`YYYY-MM-DD`), a run spanning midnight split at it. */
  readonly byDay: ReadonlyMap<string, { readonly seconds: number; readonly billedSeconds: number }>;
}

/** Meters `runs` inside the window [`from`, `to`] (epoch ms). */
export function meter(runs: readonly UsageRun[], from: number, to: number, minimumSeconds = 0): Metered {
  let seconds = 0;
  let billedSeconds = 0;
  let starts = 0;
  const byDay = new Map<string, { seconds: number; billedSeconds: number }>();
  const add = (day: number, ran: number, billed: number) => {
    const key = new Date(day).toISOString().slice(0, 10);
    const d = byDay.get(key) ?? { seconds: 0, billedSeconds: 0 };
    byDay.set(key, { seconds: d.seconds + ran, billedSeconds: d.billedSeconds + billed });
  };
  for (const r of runs) {
    const runFrom = Date.parse(r.from);
    const a = Math.max(runFrom, from);
    const b = Math.min(Date.parse(r.to), to);
    if (b <= a && runFrom < from) continue;
    const ran = Math.max(0, b - a) / 1000;
    const startsHere = runFrom >= from && runFrom <= to;
    // The minimum's shortfall is billed on the day the run started.
    const shortfall = startsHere ? Math.max(0, minimumSeconds - ran) : 0;
    seconds += ran;
    billedSeconds += ran + shortfall;
    if (startsHere) starts++;
    for (let day = a - (a % DAY_MS); day < b; day += DAY_MS) {
      const s = (Math.min(b, day + DAY_MS) - Math.max(a, day)) / 1000;
      add(day, s, s);
    }
    if (shortfall > 0) add(runFrom - (runFrom % DAY_MS), 0, shortfall);
  }
  return { seconds, billedSeconds, starts, byDay };
}
