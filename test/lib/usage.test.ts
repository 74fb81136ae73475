import { describe, expect, it } from "vitest";
import { MAX_USAGE_RUNS, mergeRuns, meter, runsOf, withRun } from "#lib/usage.ts";

const at = (iso: string) => Date.parse(iso);
const record = (runs: { from: string; to: string }[]) => ({
  runs,
  totalSeconds: 3600,
  updatedAt: "2026-11-30T09:00:00.000Z",
});

describe("usage runs", () => {
  it("keeps the runs of the report's window and at most MAX_USAGE_RUNS", () => {
    const old = { from: "2026-07-01T00:00:00.000Z", to: "2026-07-01T01:00:00.000Z" };
    expect(withRun(record([old]), "2026-11-30T10:00:00.000Z", "2026-11-30T11:00:00.000Z")).toEqual([
      { from: "2026-11-30T10:00:00.000Z", to: "2026-11-30T11:00:00.000Z" },
    ]);
    const many = Array.from({ length: MAX_USAGE_RUNS }, (_, i) => ({
      from: new Date(at("2026-11-01T00:00:00.000Z") + i * 60_000).toISOString(),
      to: new Date(at("2026-11-01T00:00:30.000Z") + i * 60_000).toISOString(),
    }));
    const kept = withRun(record(many), "2026-11-30T10:00:00.000Z", "2026-11-30T11:00:00.000Z");
    expect(kept).toHaveLength(MAX_USAGE_RUNS);
    expect(kept[0]).toEqual(many[1]);
    expect(kept.at(-1)?.to).toBe("2026-11-30T11:00:00.000Z");
  });

  it("merges overlapping and touching runs, leaves gaps", () => {
    expect(
      mergeRuns([
        { from: "2026-11-30T03:00:00Z", to: "2026-11-30T04:00:00Z" },
        { from: "2026-11-30T01:00:00Z", to: "2026-11-30T02:00:00Z" },
        { from: "2026-11-30T01:30:00Z", to: "2026-11-30T03:00:00Z" },
        { from: "2026-11-30T06:00:00Z", to: "2026-11-30T07:00:00Z" },
      ]),
    ).toEqual([
      { from: "2026-11-30T01:00:00Z", to: "2026-11-30T04:00:00Z" },
      { from: "2026-11-30T06:00:00Z", to: "2026-11-30T07:00:00Z" },
    ]);
  });

  it("meters a run that began before the window without its minimum or its start", () => {
    const m = meter(
      [{ from: "2026-11-29T23:58:00.000Z", to: "2026-11-30T00:01:00.000Z" }],
      at("2026-11-30T00:00:00.000Z"),
      at("2026-11-30T12:00:00.000Z"),
      600,
    );
    expect(m).toMatchObject({ seconds: 60, billedSeconds: 60, starts: 0 });
    expect([...m.byDay]).toEqual([["2026-11-30", { seconds: 60, billedSeconds: 60 }]]);
  });

  it("turns a record from before runs were kept into one run ending at its last update", () => {
    expect(
      runsOf({
        totalSeconds: 1800,
        updatedAt: "2026-11-30T10:00:00.000Z",
        since: "2026-11-30T11:00:00.000Z",
        now: new Date("2026-11-30T12:00:00.000Z"),
      }),
    ).toEqual([
      { from: "2026-11-30T09:30:00.000Z", to: "2026-11-30T10:00:00.000Z" },
      { from: "2026-11-30T11:00:00.000Z", to: "2026-11-30T12:00:00.000Z" },
    ]);
  });

  it("keeps the total of a record from before runs were kept as a run when it closes its first", () => {
    // 30 minutes counted before runs were kept, last updated at 09:00; a run from 10:00 to 11:00.
    expect(
      withRun(
        { totalSeconds: 1800, updatedAt: "2026-11-30T09:00:00.000Z" },
        "2026-11-30T10:00:00.000Z",
        "2026-11-30T11:00:00.000Z",
      ),
    ).toEqual([
      { from: "2026-11-30T08:30:00.000Z", to: "2026-11-30T09:00:00.000Z" },
      { from: "2026-11-30T10:00:00.000Z", to: "2026-11-30T11:00:00.000Z" },
    ]);
    // A record that already keeps runs gets only the new one.
    expect(
      withRun(
        { runs: [], totalSeconds: 1800, updatedAt: "2026-11-30T09:00:00.000Z" },
        "2026-11-30T10:00:00.000Z",
        "2026-11-30T11:00:00.000Z",
      ),
    ).toEqual([{ from: "2026-11-30T10:00:00.000Z", to: "2026-11-30T11:00:00.000Z" }]);
  });
});
