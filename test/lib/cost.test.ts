import { describe, expect, it } from "vitest";
import { costReport } from "#lib/reconcile/cost.ts";
import { makeDestination, makeSource } from "#test/tasks/destinations/helpers.ts";
import { makeSession } from "#test/tasks/helpers.ts";

const NOW = new Date("2026-11-30T12:00:00.000Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000).toISOString();

describe("costReport", () => {
  it("estimates each session, destination and source, and the same usage with always-on channels", () => {
    const session = {
      ...makeSession({ sessionId: "s1", mediaLive: { channelId: "100" } }),
      createdAt: hoursAgo(24),
      updatedAt: hoursAgo(1),
    };
    session.streaming.totalStreamedSeconds = 3600;
    session.streaming.attempt = 1;
    const perDest = makeDestination({
      destinationId: "d1",
      sourceId: "src1",
      createdAt: hoursAgo(10),
      updatedAt: hoursAgo(2),
      metrics: { starts: 2, failovers: 0, runningSeconds: 1800, reconnects: 0 },
    });
    const shared = (id: string, seconds: number) =>
      makeDestination({
        destinationId: id,
        sourceId: "src2",
        deliveryMode: "shared",
        createdAt: hoursAgo(4),
        updatedAt: hoursAgo(1),
        metrics: { starts: 1, failovers: 0, runningSeconds: seconds, reconnects: 0 },
      });
    const old = {
      ...makeDestination({ destinationId: "d-old", sourceId: "src-old" }),
      updatedAt: hoursAgo(24 * 40),
    };
    const report = costReport({
      sessions: [session],
      destinations: [perDest, shared("d2", 3600), shared("d3", 1200), old],
      days: 30,
      now: NOW,
    });
    expect(report.sessions).toEqual([
      {
        sessionId: "s1",
        hostUserId: session.hostUserId,
        runningHours: 1,
        estimatedCostUsd: 1.5,
        alwaysOnCostUsd: 36,
      },
    ]);
    // 30 minutes over 2 starts: the 10-minute minimum per start does not apply (30 > 20).
    expect(report.destinations).toEqual([
      {
        destinationId: "d1",
        sourceId: "src1",
        runningHours: 0.5,
        estimatedCostUsd: 0.75,
        alwaysOnCostUsd: 15,
      },
    ]);
    // A shared channel counts once: its longest-running destination's hour, 4 hours always-on.
    expect(report.sources).toEqual(
      expect.arrayContaining([
        { sourceId: "src1", destinations: 1, runningHours: 0.5, estimatedCostUsd: 0.75, alwaysOnCostUsd: 15 },
        { sourceId: "src2", destinations: 2, runningHours: 1, estimatedCostUsd: 1.5, alwaysOnCostUsd: 6 },
      ]),
    );
    // Not active in the 30 days: left out.
    expect(report.sources.map((s) => s.sourceId)).not.toContain("src-old");
    expect(report.destinations.map((d) => d.destinationId)).not.toContain("d-old");
    expect(report.total).toEqual({
      runningHours: 2.5,
      estimatedCostUsd: 3.75,
      alwaysOnCostUsd: 57,
      savedPercent: 93.4,
    });
  });

  it("reports nothing ran as no saving at all, not a division by zero", () => {
    expect(costReport({ sessions: [], destinations: [], days: 7, now: NOW }).total).toEqual({
      runningHours: 0,
      estimatedCostUsd: 0,
      alwaysOnCostUsd: 0,
      savedPercent: null,
    });
  });

  it("clips each run to the window and splits it by UTC day, with the minimum billed on its start day", () => {
    const session = {
      ...makeSession({ sessionId: "s1", mediaLive: { channelId: "100" } }),
      createdAt: hoursAgo(24 * 10),
      updatedAt: hoursAgo(1),
    };
    session.streaming.totalStreamedSeconds = 5 * 3600 + 120;
    session.streaming.runs = [
      // Nine days ago: outside a 7-day window.
      { from: hoursAgo(24 * 9), to: hoursAgo(24 * 9 - 2) },
      // 2026-11-29 22:00 to 2026-11-30 01:00: 2 hours on the 29th, 1 on the 30th.
      { from: "2026-11-29T22:00:00.000Z", to: "2026-11-30T01:00:00.000Z" },
      // Two minutes on the 30th: billed 10.
      { from: "2026-11-30T05:00:00.000Z", to: "2026-11-30T05:02:00.000Z" },
    ];
    const report = costReport({ sessions: [session], destinations: [], days: 7, now: NOW });
    const hourCost = 1.5;
    expect(report.sessions[0]).toMatchObject({
      runningHours: round2(3 + 2 / 60),
      estimatedCostUsd: round2((3 + 10 / 60) * hourCost),
    });
    const day = (date: string) => report.daily.find((d) => d.date === date);
    expect(day("2026-11-29")).toEqual({ date: "2026-11-29", runningHours: 2, estimatedCostUsd: 3 });
    expect(day("2026-11-30")).toEqual({
      date: "2026-11-30",
      runningHours: round2(1 + 2 / 60),
      estimatedCostUsd: round2((1 + 10 / 60) * hourCost),
    });
    // Every day of the window is listed, oldest first, and the days add up to the total.
    expect(report.daily.map((d) => d.date)).toEqual([
      "2026-11-23",
      "2026-11-24",
      "2026-11-25",
      "2026-11-26",
      "2026-11-27",
      "2026-11-28",
      "2026-11-29",
      "2026-11-30",
    ]);
    expect(round2(report.daily.reduce((a, d) => a + d.estimatedCostUsd, 0))).toBe(
      report.total.estimatedCostUsd,
    );
  });

  it("counts a live broadcast up to now, and a shared channel once over its destinations' overlapping runs", () => {
    const live = {
      ...makeSession({ sessionId: "live", mediaLive: { channelId: "100" } }),
      createdAt: hoursAgo(3),
      updatedAt: hoursAgo(2),
    };
    live.streaming.startedAt = hoursAgo(2);
    const shared = (id: string, runs: { from: string; to: string }[], since?: string) =>
      makeDestination({
        destinationId: id,
        sourceId: "src2",
        deliveryMode: "shared",
        createdAt: hoursAgo(8),
        updatedAt: hoursAgo(1),
        metrics: {
          starts: runs.length,
          failovers: 0,
          runningSeconds: 0,
          reconnects: 0,
          runs,
          ...(since ? { runningSince: since } : {}),
        },
      });
    const report = costReport({
      sessions: [live],
      destinations: [
        shared("a", [{ from: hoursAgo(6), to: hoursAgo(4) }]),
        // Overlaps a's run by an hour, then runs on until now.
        shared("b", [{ from: hoursAgo(5), to: hoursAgo(3) }], hoursAgo(1)),
      ],
      days: 1,
      now: NOW,
    });
    expect(report.sessions[0]).toMatchObject({ runningHours: 2, estimatedCostUsd: 3 });
    // Union: 6h ago to 3h ago, then the last hour: 4 hours, not 2 + 2 + 1.
    expect(report.sources).toEqual([
      { sourceId: "src2", destinations: 2, runningHours: 4, estimatedCostUsd: 6, alwaysOnCostUsd: 12 },
    ]);
  });

  it("adds a source's MediaConnect flow hours, open run included, and its always-on cost", () => {
    const source = makeSource({
      sourceId: "src1",
      createdAt: hoursAgo(10),
      updatedAt: hoursAgo(1),
      flowUsage: {
        activeSeconds: 3 * 3600,
        runs: [{ from: hoursAgo(6), to: hoursAgo(3) }],
        activeSince: hoursAgo(1),
      },
    });
    const d = makeDestination({
      destinationId: "d1",
      sourceId: "src1",
      createdAt: hoursAgo(10),
      updatedAt: hoursAgo(1),
      metrics: {
        starts: 1,
        failovers: 0,
        runningSeconds: 3 * 3600,
        reconnects: 0,
        runs: [{ from: hoursAgo(6), to: hoursAgo(3) }],
      },
    });
    const report = costReport({ sessions: [], destinations: [d], sources: [source], days: 1, now: NOW });
    const flowPerHour = 0.16;
    expect(report.sources).toEqual([
      {
        sourceId: "src1",
        destinations: 1,
        runningHours: 3,
        estimatedCostUsd: round2(3 * 1.5 + 4 * flowPerHour),
        alwaysOnCostUsd: round2(10 * 1.5 + 10 * flowPerHour),
        flow: {
          activeHours: 4,
          estimatedCostUsd: round2(4 * flowPerHour),
          alwaysOnCostUsd: round2(10 * flowPerHour),
        },
      },
    ]);
    expect(report.total.estimatedCostUsd).toBe(round2(3 * 1.5 + 4 * flowPerHour));
    // A source with no destinations in the window still shows its flow's hours.
    const alone = costReport({ sessions: [], destinations: [], sources: [source], days: 1, now: NOW });
    expect(alone.sources[0]).toMatchObject({ sourceId: "src1", destinations: 0, flow: { activeHours: 4 } });
  });
});

const round2 = (n: number) => Math.round(n * 100) / 100;
