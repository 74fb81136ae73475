import { describe, expect, it } from "vitest";
import { isFresh } from "#lib/waits.ts";

describe("isFresh: may an event report a change after a registration", () => {
  const registeredAt = "2026-12-01T06:00:05.400Z";

  it("counts EventBridge's whole-second time of the registration's own second as after it", () => {
    expect(isFresh("2026-12-01T06:00:05Z", registeredAt)).toBe(true);
    expect(isFresh("2026-12-01T06:00:06Z", registeredAt)).toBe(true);
    expect(isFresh("2026-12-01T06:00:04Z", registeredAt)).toBe(false);
  });

  it("compares a time with milliseconds (the local runtime's) as it is", () => {
    expect(isFresh("2026-12-01T06:00:05.400Z", registeredAt)).toBe(true);
    expect(isFresh("2026-12-01T06:00:05.399Z", registeredAt)).toBe(false);
  });

  it("does not trust a time it cannot read", () => {
    expect(isFresh("yesterday", registeredAt)).toBe(false);
    expect(isFresh("2026-12-01T06:00:05Z", "garbage")).toBe(false);
  });
});
