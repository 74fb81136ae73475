import { describe, expect, it } from "vitest";
import { costReport } from "#lib/reconcile/cost.ts";
import { makeDestination } from "#test/tasks/destinations/helpers.ts";
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
});
