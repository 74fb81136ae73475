import { describe, expect, it } from "vitest";
import { presetProblem, rtmpUrlProblem, streamKeyProblem } from "#lib/destinations/platforms.ts";

describe("platform rules", () => {
  it("checks ingest URLs: RTMP(S) only, RTMPS only for Facebook", () => {
    expect(rtmpUrlProblem("youtube", "rtmp://a.rtmp.youtube.com/live2")).toBeUndefined();
    expect(rtmpUrlProblem("custom", "https://example.com/live")).toMatch(/rtmp:\/\/ or rtmps:\/\//);
    expect(rtmpUrlProblem("facebook", "rtmp://live-api-s.facebook.com/rtmp/")).toMatch(/RTMPS only/);
    expect(rtmpUrlProblem("custom", "not a url")).toBe("is not a URL");
  });

  it("checks stream keys against each platform's shape, and keys that would break a URL", () => {
    expect(streamKeyProblem("youtube", "abcd-efgh-ijkl-mnop-qrst")).toBeUndefined();
    expect(streamKeyProblem("youtube", "live_123_abc")).toMatch(/not a YouTube stream key/);
    expect(streamKeyProblem("twitch", "live_123456789_AbCdEf123")).toBeUndefined();
    expect(streamKeyProblem("twitch", "abcd-efgh-ijkl-mnop-qrst")).toMatch(/Twitch/);
    expect(streamKeyProblem("custom", "key with space")).toMatch(/no spaces/);
    expect(streamKeyProblem("custom", "a/b?c#d-long")).toMatch(/no spaces, '\/'/);
  });

  it("refuses presets above a platform's bitrate", () => {
    expect(presetProblem("twitch", "1080p60")).toMatch(/above Twitch's limit of 6 Mb\/s/);
    expect(presetProblem("twitch", "1080p30")).toBeUndefined();
    expect(presetProblem("youtube", "1080p60")).toBeUndefined();
    expect(presetProblem("linkedin", "1080p30")).toMatch(/LinkedIn/);
  });
});
