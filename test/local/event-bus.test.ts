import { describe, expect, it } from "vitest";
import type { LocalRule } from "#local/definitions.ts";
import { createLocalEventBridge, transformInput } from "#local/events/bus.ts";
import type { SimEvent } from "#local/simulator/events.ts";
import type { AnyTask } from "#tasks/define.ts";

const event = (state: string): SimEvent => ({
  version: "0",
  id: `ev-${state}`,
  "detail-type": "MediaLive Channel Alert",
  source: "aws.medialive",
  account: "000000000000",
  time: "2026-11-30T10:00:00Z",
  region: "us-east-1",
  resources: [],
  detail: { alarm_state: state },
});

const task = (name: string) => ({ name }) as unknown as AnyTask;
const rule = (retryAttempts: number): LocalRule => ({
  name: "castflow-dev-test",
  pattern: { source: ["aws.medialive"], detail: { alarm_state: ["SET"] } },
  targets: [{ task: task("react"), retryAttempts }],
});

describe("local event bus", () => {
  it("delivers matching events only, retries a failing target as Lambda's async retries do, then drops it", async () => {
    let calls = 0;
    const bus = createLocalEventBridge({
      rules: [rule(2)],
      timeScale: 0.0001, // 60 s and 120 s become 6 ms and 12 ms
      invoke: async () => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error("not yet"), { name: "DestinationBusy" });
      },
    });
    bus.publish(event("CLEARED")); // no rule matches
    bus.publish(event("SET"));
    await bus.idle();
    expect(bus.deliveries().map((d) => [d.attempt, d.outcome, d.error])).toEqual([
      [1, "failed", "DestinationBusy: not yet"],
      [2, "failed", "DestinationBusy: not yet"],
      [3, "succeeded", undefined],
    ]);
    await bus.close();

    const failing = createLocalEventBridge({
      rules: [rule(1)],
      timeScale: 0.0001,
      invoke: async () => {
        throw new Error("broken");
      },
    });
    failing.publish(event("SET"));
    await failing.idle();
    expect(failing.deliveries().map((d) => [d.attempt, d.outcome])).toEqual([
      [1, "failed"],
      [2, "dropped"],
    ]);
    await failing.close();
  });

  it("hands each matching target the event (the runtime's invoke makes the wire copy), and refuses a rule it cannot match as EventBridge does", async () => {
    const seen: unknown[] = [];
    const bus = createLocalEventBridge({
      rules: [rule(0)],
      timeScale: 1,
      invoke: async (_t, e) => {
        seen.push(e);
      },
    });
    const e = event("SET");
    bus.publish(e);
    await bus.idle();
    expect(seen).toEqual([e]);
    await bus.close();
    expect(() =>
      createLocalEventBridge({
        rules: [{ ...rule(0), pattern: { detail: { ip: [{ cidr: "10.0.0.0/8" }] } } }],
        timeScale: 1,
        invoke: async () => undefined,
      }),
    ).toThrow(/does not support the matcher/);
  });

  it("applies a target's input transformer as EventBridge does: JSON values, a missing path gives null", () => {
    const transformer = {
      inputPathsMap: { id: "$.id", state: "$.detail.alarm_state", none: "$.detail.nothing" },
      inputTemplate: '{"eventId":<id>,"alarm":{"state":<state>},"none":<none>,"quoted":"<state>"}',
    };
    expect(transformInput(transformer, event("SET"))).toEqual({
      eventId: "ev-SET",
      alarm: { state: "SET" },
      none: null,
      quoted: "SET",
    });
  });

  it("reads array elements by index ($.resources[0]), and refuses a path it cannot read", () => {
    const ev = { ...event("SET"), resources: ["arn:aws:mediaconnect:us-east-1:1:flow:a:b"] };
    expect(
      transformInput(
        {
          inputPathsMap: { arn: "$.resources[0]", none: "$.resources[3]" },
          inputTemplate: '{"arn":<arn>,"none":<none>}',
        },
        ev,
      ),
    ).toEqual({ arn: "arn:aws:mediaconnect:us-east-1:1:flow:a:b", none: null });
    expect(() => transformInput({ inputPathsMap: { x: "$..resources" }, inputTemplate: "<x>" }, ev)).toThrow(
      /does not support the input path/,
    );
  });
});
