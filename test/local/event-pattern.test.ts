import { describe, expect, it } from "vitest";
import { checkPattern, matchesPattern } from "#local/events/pattern.ts";
import { destinationAlert } from "#reactions/destination-alert.ts";

const alert = (state: string, type = "Failed to Create Output File or Socket") => ({
  version: "0",
  id: "e1",
  "detail-type": "MediaLive Channel Alert",
  source: "aws.medialive",
  resources: ["arn:aws:medialive:us-east-1:000000000000:channel:1234567"],
  detail: { alarm_state: state, alert_type: type, pipeline: "0", count: 3 },
});

describe("event patterns (local EventBridge)", () => {
  it("matches the destination-alert rule on output alerts only, SET and CLEARED", () => {
    const { pattern } = destinationAlert;
    expect(matchesPattern(pattern as never, alert("SET"))).toBe(true);
    expect(matchesPattern(pattern as never, alert("CLEARED"))).toBe(true);
    expect(matchesPattern(pattern as never, alert("SET", "Video Not Detected"))).toBe(false);
    expect(matchesPattern(pattern as never, { ...alert("SET"), source: "aws.ivs" })).toBe(false);
    expect(matchesPattern(pattern as never, { ...alert("SET"), detail: {} })).toBe(false);
  });

  it("supports prefix, suffix, anything-but, numeric, exists, wildcard, equals-ignore-case and $or", () => {
    const e = alert("SET");
    const m = (p: Record<string, unknown>) => matchesPattern(p as never, e);
    expect(m({ resources: [{ prefix: "arn:aws:medialive:" }] })).toBe(true);
    expect(m({ resources: [{ suffix: ":channel:9" }] })).toBe(false);
    expect(m({ detail: { alarm_state: [{ "anything-but": ["CLEARED"] }] } })).toBe(true);
    expect(m({ detail: { alarm_state: [{ "anything-but": { prefix: "S" } }] } })).toBe(false);
    expect(m({ detail: { count: [{ numeric: [">", 1, "<=", 3] }] } })).toBe(true);
    expect(m({ detail: { count: [{ numeric: [">", 3] }] } })).toBe(false);
    expect(m({ detail: { message: [{ exists: false }] } })).toBe(true);
    expect(m({ detail: { pipeline: [{ exists: true }] } })).toBe(true);
    expect(m({ detail: { alarm_state: [{ exists: false }] } })).toBe(false);
    expect(m({ "detail-type": [{ wildcard: "MediaLive * Alert" }] })).toBe(true);
    expect(m({ detail: { alarm_state: [{ "equals-ignore-case": "set" }] } })).toBe(true);
    expect(m({ $or: [{ source: ["aws.ivs"] }, { detail: { pipeline: ["0"] } }] })).toBe(true);
    expect(m({ $or: [{ source: ["aws.ivs"] }, { detail: { pipeline: ["1"] } }] })).toBe(false);
    // A missing field matches nothing but `exists: false`; an absent object matches no nested pattern.
    expect(m({ detail: { message: ["x"] } })).toBe(false);
    expect(m({ nothing: { here: ["x"] } })).toBe(false);
  });

  it("matches the flattened event as EventBridge does: arrays of objects, missing parents, objects are no leaves", () => {
    const e = { source: "x", items: [{ a: 1 }, { a: 2 }], detail: { nested: { k: "v" } } };
    expect(matchesPattern({ items: { a: [2] } }, e)).toBe(true);
    expect(matchesPattern({ items: { a: [3] } }, e)).toBe(false);
    expect(matchesPattern({ missing: { foo: [{ exists: false }] } }, e)).toBe(true);
    expect(matchesPattern({ missing: { foo: [{ exists: true }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { nested: [{ exists: true }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { nested: { k: ["v"] } } }, e)).toBe(true);
  });

  it("refuses, when the rule is loaded, a matcher it cannot evaluate as EventBridge would", () => {
    expect(() => checkPattern({ detail: { ip: [{ cidr: "10.0.0.0/24" }] } })).toThrow(
      /pattern\.detail\.ip: the local event bus does not support the matcher/,
    );
    expect(() => checkPattern({ source: "aws.medialive" })).toThrow(/must be a list or an object/);
    expect(() => checkPattern({ source: [] })).toThrow(/must not be empty/);
    expect(() => checkPattern({ source: [{ prefix: { "equals-ignore-case": "aws" } }] })).toThrow(
      /does not support the matcher/,
    );
    expect(() => checkPattern({ source: [{ "anything-but": { wildcard: "a*" } }] })).toThrow(
      /does not support the matcher/,
    );
    expect(() => checkPattern(destinationAlert.pattern as never)).not.toThrow();
  });
});
