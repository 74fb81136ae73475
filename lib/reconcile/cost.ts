import type { Destination, Source } from "#lib/destinations/model.ts";
import { RATES, ratesView } from "#lib/destinations/rates.ts";
import { type Session, uncountedBroadcastSeconds } from "#lib/sessions/model.ts";
import { type Metered, mergeRuns, meter, runsOf, type UsageRun } from "#lib/usage.ts";

const HOUR = 3600;
const DAY_MS = 24 * HOUR * 1000;
const round2 = (n: number) => Math.round(n * 100) / 100;

interface Usage {
  readonly runningHours: number;
  readonly estimatedCostUsd: number;
  /** The same resource left running from its creation (or the window's start) until it ended or now. */
  readonly alwaysOnCostUsd: number;
}

/** Hours between `from` and `to`, clipped to the window. */
function hoursIn(from: string, to: string | undefined, windowStart: number, now: number): number {
  const start = Math.max(Date.parse(from), windowStart);
  const end = Math.min(to ? Date.parse(to) : now, now);
  return Math.max(0, end - start) / 1000 / HOUR;
}

const MINIMUM_SECONDS = RATES.mediaLiveMinimumMinutes * 60;

/** A meter of MediaLive channel runs (the 10-minute minimum per start) or of flow runs (none). */
interface Line {
  readonly kind: "channel" | "flow";
  readonly metered: Metered;
  readonly perHour: number;
}

function usage(line: Line, alwaysOnHours: number): Usage {
  return {
    runningHours: round2(line.metered.seconds / HOUR),
    estimatedCostUsd: round2((line.metered.billedSeconds / HOUR) * line.perHour),
    alwaysOnCostUsd: round2(alwaysOnHours * line.perHour),
  };
}

/**
 * GET /admin/cost: running hours and their estimated cost per session, destination and source
 * (its channels and its MediaConnect flow), in total and per UTC day, for the last `days` days,
 * with what the same resources would have cost running all the time (the always-on designs
 * castflow replaces). Each record keeps its runs (`lib/usage.ts`), so a run is clipped to the
 * window and split by day; a record written before runs were kept counts its whole total on the
 * day of its last update. A shared source's destinations run on one channel: the source counts
 * the union of their runs, once.
 */
export function costReport(input: {
  sessions: readonly Session[];
  destinations: readonly Destination[];
  sources?: readonly Source[];
  days: number;
  now?: Date;
}) {
  const nowDate = input.now ?? new Date();
  const now = nowDate.getTime();
  const windowStart = now - input.days * DAY_MS;
  const channel = (runs: readonly UsageRun[]): Line => ({
    kind: "channel",
    metered: meter(runs, windowStart, now, MINIMUM_SECONDS),
    perHour: RATES.mediaLiveChannelPerHour,
  });
  const inWindow = (r: { updatedAt: string }, line: Line) =>
    line.metered.seconds > 0 || Date.parse(r.updatedAt) >= windowStart;
  const lines: Line[] = [];

  const sessions = input.sessions.flatMap((s) => {
    const open = uncountedBroadcastSeconds(s, nowDate) > 0;
    const line = channel(
      runsOf({
        runs: s.streaming.runs,
        totalSeconds: s.streaming.totalStreamedSeconds,
        since: open ? s.streaming.startedAt : undefined,
        updatedAt: s.updatedAt,
        now: nowDate,
      }),
    );
    if (!inWindow(s, line)) return [];
    lines.push(line);
    const alwaysOn = s.mediaLive.channelId ? hoursIn(s.createdAt, s.end?.endedAt, windowStart, now) : 0;
    return [{ sessionId: s.sessionId, hostUserId: s.hostUserId, ...usage(line, alwaysOn) }];
  });

  const runsOfDestination = (d: Destination) =>
    runsOf({
      runs: d.metrics.runs,
      totalSeconds: d.metrics.runningSeconds,
      since: d.metrics.runningSince,
      updatedAt: d.updatedAt,
      now: nowDate,
    });
  const bySource = new Map<string, Destination[]>();
  const destinations = input.destinations.flatMap((d) => {
    const line = channel(runsOfDestination(d));
    if (!inWindow(d, line)) return [];
    bySource.set(d.sourceId, [...(bySource.get(d.sourceId) ?? []), d]);
    if (d.deliveryMode !== "per-destination") return [];
    lines.push(line);
    const alwaysOn = hoursIn(d.createdAt, d.deletedAt, windowStart, now);
    return [{ destinationId: d.destinationId, sourceId: d.sourceId, ...usage(line, alwaysOn) }];
  });

  const sourceRecords = new Map((input.sources ?? []).map((s) => [s.sourceId, s]));
  const flowLine = (src: Source): Line => ({
    kind: "flow",
    metered: meter(
      runsOf({
        runs: src.flowUsage.runs,
        totalSeconds: src.flowUsage.activeSeconds,
        since: src.flowUsage.activeSince,
        updatedAt: src.updatedAt,
        now: nowDate,
      }),
      windowStart,
      now,
    ),
    perHour: RATES.mediaConnectFlowPerHour,
  });
  const flows = new Map(
    [...sourceRecords.values()].flatMap((src) => (src.flow ? [[src.sourceId, flowLine(src)] as const] : [])),
  );
  for (const src of sourceRecords.values()) {
    const flow = flows.get(src.sourceId);
    if (!bySource.has(src.sourceId) && flow && inWindow(src, flow)) bySource.set(src.sourceId, []);
  }
  const sources = [...bySource].map(([sourceId, ds]) => {
    const own = destinations.filter((d) => d.sourceId === sourceId);
    const shared = ds.filter((d) => d.deliveryMode === "shared");
    const sharedLine = channel(mergeRuns(shared.flatMap(runsOfDestination)));
    const sharedUsage = shared.length
      ? usage(
          sharedLine,
          hoursIn(shared.map((d) => d.createdAt).sort()[0] as string, undefined, windowStart, now),
        )
      : undefined;
    if (sharedUsage) lines.push(sharedLine);
    const src = sourceRecords.get(sourceId);
    const flow = flows.get(sourceId);
    const flowUsage =
      src && flow ? usage(flow, hoursIn(src.createdAt, undefined, windowStart, now)) : undefined;
    if (flow) lines.push(flow);
    const channels = (k: keyof Usage) => round2(own.reduce((a, d) => a + d[k], 0) + (sharedUsage?.[k] ?? 0));
    return {
      sourceId,
      destinations: ds.length,
      runningHours: channels("runningHours"),
      estimatedCostUsd: round2(channels("estimatedCostUsd") + (flowUsage?.estimatedCostUsd ?? 0)),
      alwaysOnCostUsd: round2(channels("alwaysOnCostUsd") + (flowUsage?.alwaysOnCostUsd ?? 0)),
      ...(flowUsage
        ? {
            flow: {
              activeHours: flowUsage.runningHours,
              estimatedCostUsd: flowUsage.estimatedCostUsd,
              alwaysOnCostUsd: flowUsage.alwaysOnCostUsd,
            },
          }
        : {}),
    };
  });

  const all = [...sessions, ...sources];
  const total = (k: keyof Usage) => round2(all.reduce((a, x) => a + x[k], 0));
  const estimated = total("estimatedCostUsd");
  const alwaysOn = total("alwaysOnCostUsd");
  return {
    days: input.days,
    from: new Date(windowStart).toISOString(),
    to: new Date(now).toISOString(),
    total: {
      /** MediaLive channel hours (flow hours are per source, under `flow`). */
      runningHours: round2(all.reduce((a, x) => a + x.runningHours, 0)),
      estimatedCostUsd: estimated,
      alwaysOnCostUsd: alwaysOn,
      /** How much less than always-on resources castflow's usage cost (null when nothing ran). */
      savedPercent: alwaysOn > 0 ? Math.round((1 - estimated / alwaysOn) * 1000) / 10 : null,
    },
    daily: daily(lines, windowStart, now),
    sessions,
    destinations,
    sources,
    rates: ratesView(),
  };
}

/** Every UTC day of the window, oldest first: channel hours and the cost of channels and flows. */
function daily(lines: readonly Line[], windowStart: number, now: number) {
  const days: { date: string; runningHours: number; estimatedCostUsd: number }[] = [];
  for (let day = windowStart - (windowStart % DAY_MS); day < now; day += DAY_MS) {
    const date = new Date(day).toISOString().slice(0, 10);
    let channelSeconds = 0;
    let cost = 0;
    for (const line of lines) {
      const d = line.metered.byDay.get(date);
      if (!d) continue;
      if (line.kind === "channel") channelSeconds += d.seconds;
      cost += (d.billedSeconds / HOUR) * line.perHour;
    }
    days.push({ date, runningHours: round2(channelSeconds / HOUR), estimatedCostUsd: round2(cost) });
  }
  return days;
}
