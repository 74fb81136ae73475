import { type Destination, uncountedRunningSeconds } from "#lib/destinations/model.ts";
import { channelCost, RATES } from "#lib/destinations/rates.ts";
import { type Session, uncountedBroadcastSeconds } from "#lib/sessions/model.ts";

const HOUR = 3600;
const round2 = (n: number) => Math.round(n * 100) / 100;

interface Usage {
  readonly runningHours: number;
  readonly estimatedCostUsd: number;
  /** The same channel left running from its creation (or the window's start) until it ended or now. */
  readonly alwaysOnCostUsd: number;
}

/** Hours between `from` and `to`, clipped to the window. */
function hoursIn(from: string, to: string | undefined, windowStart: number, now: number): number {
  const start = Math.max(Date.parse(from), windowStart);
  const end = Math.min(to ? Date.parse(to) : now, now);
  return Math.max(0, end - start) / 1000 / HOUR;
}

function usage(runningSeconds: number, starts: number, alwaysOnHours: number): Usage {
  return {
    runningHours: round2(runningSeconds / HOUR),
    estimatedCostUsd: runningSeconds > 0 || starts > 0 ? channelCost(runningSeconds, starts) : 0,
    alwaysOnCostUsd: round2(alwaysOnHours * RATES.mediaLiveChannelPerHour),
  };
}

/**
 * GET /admin/cost: MediaLive running hours and their estimated cost per session, destination and
 * source, and in total, for every session and destination active in the last `days` days, with
 * what the same channels would have cost running all the time (the always-on designs castflow
 * replaces). Records keep running totals, not a day-by-day history: a record active in the window
 * counts with its whole total. A shared source's destinations run on one channel: the source
 * counts that channel once (its longest-running destination), not once per destination.
 */
export function costReport(input: {
  sessions: readonly Session[];
  destinations: readonly Destination[];
  days: number;
  now?: Date;
}) {
  const now = (input.now ?? new Date()).getTime();
  const windowStart = now - input.days * 24 * HOUR * 1000;
  const active = (r: { updatedAt: string }) => Date.parse(r.updatedAt) >= windowStart;

  const sessions = input.sessions.filter(active).map((s) => {
    const seconds = s.streaming.totalStreamedSeconds + uncountedBroadcastSeconds(s, new Date(now));
    const hours = s.mediaLive.channelId ? hoursIn(s.createdAt, s.end?.endedAt, windowStart, now) : 0;
    return {
      sessionId: s.sessionId,
      hostUserId: s.hostUserId,
      ...usage(seconds, s.streaming.attempt, hours),
    };
  });

  const live = input.destinations.filter(active);
  const seconds = (d: Destination) => d.metrics.runningSeconds + uncountedRunningSeconds(d, new Date(now));
  const destinations = live
    .filter((d) => d.deliveryMode === "per-destination")
    .map((d) => ({
      destinationId: d.destinationId,
      sourceId: d.sourceId,
      ...usage(seconds(d), d.metrics.starts, hoursIn(d.createdAt, d.deletedAt, windowStart, now)),
    }));
  const bySource = new Map<string, Destination[]>();
  for (const d of live) bySource.set(d.sourceId, [...(bySource.get(d.sourceId) ?? []), d]);
  const sources = [...bySource].map(([sourceId, ds]) => {
    const own = destinations.filter((d) => d.sourceId === sourceId);
    const shared = ds.filter((d) => d.deliveryMode === "shared");
    const sharedUsage = shared.length
      ? usage(
          Math.max(...shared.map(seconds)),
          Math.max(...shared.map((d) => d.metrics.starts)),
          hoursIn(shared.map((d) => d.createdAt).sort()[0] as string, undefined, windowStart, now),
        )
      : usage(0, 0, 0);
    const sum = (k: keyof Usage) => round2(own.reduce((a, d) => a + d[k], 0) + sharedUsage[k]);
    return {
      sourceId,
      destinations: ds.length,
      runningHours: sum("runningHours"),
      estimatedCostUsd: sum("estimatedCostUsd"),
      alwaysOnCostUsd: sum("alwaysOnCostUsd"),
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
      runningHours: total("runningHours"),
      estimatedCostUsd: estimated,
      alwaysOnCostUsd: alwaysOn,
      /** How much less than always-on channels castflow's usage cost (null when nothing ran). */
      savedPercent: alwaysOn > 0 ? Math.round((1 - estimated / alwaysOn) * 1000) / 10 : null,
    },
    sessions,
    destinations,
    sources,
    rates: {
      mediaLiveChannelPerHour: RATES.mediaLiveChannelPerHour,
      minimumMinutesPerStart: RATES.mediaLiveMinimumMinutes,
      source: RATES.source,
    },
  };
}
