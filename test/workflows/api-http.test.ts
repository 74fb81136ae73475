import { describe, expect, it } from "vitest";
import { useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime({ legacyProgramChannels: true });

async function raw(path: string, init: RequestInit = {}) {
  const res = await fetch(`${t.h.rt.endpoints.api}${path}`, init);
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
}

describe("HTTP API on the local runtime", () => {
  it("refuses requests without a valid bearer token with 401, before doing anything", async () => {
    const noToken = await raw("/sessions", { method: "POST", body: "{}" });
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe("unauthorized");
    const forged = await raw("/sessions", {
      method: "POST",
      headers: { authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." },
    });
    expect(forged.status).toBe(401);
    expect(t.h.rt.simulator.resources().ivs.channels).toEqual([]);
  });

  it("creates a session with its IVS program channel and shows it only to its host or an admin", async () => {
    const created = await t.api("POST", "/sessions", { body: { showId: "show-7", episodeId: "ep-1" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      hostUserId: "host-1",
      showId: "show-7",
      episodeId: "ep-1",
      streaming: { isLive: false, status: "idle", attempt: 0 },
    });
    expect(created.body.ivs.programPlaybackUrl).toMatch(/^https:\/\/.+\.m3u8$/);
    const [channel] = t.h.rt.simulator.resources().ivs.channels;
    expect(channel).toMatchObject({ arn: created.body.ivs.programChannelArn });
    const path = `/sessions/${created.body.sessionId}`;
    expect((await t.api("GET", path)).status).toBe(200);
    expect((await t.api("GET", path, { user: "intruder" })).status).toBe(404);
    expect((await t.api("POST", `${path}/streaming/start`, { user: "intruder" })).status).toBe(404);
    expect((await t.api("GET", path, { user: "ops", admin: true })).status).toBe(200);
  });

  it("answers bad input with a 4xx naming the field, and creates nothing", async () => {
    const empty = await t.api("POST", "/sessions", { body: { showId: "" } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain("showId");
    expect(empty.body.error.details.fields[0]).toMatchObject({ field: "showId" });
    const missing = await t.api("POST", "/sessions", { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain("showId");

    const token = await t.token("host-1");
    const notJson = await raw("/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
      body: "showId=x",
    });
    expect(notJson.status).toBe(415);
    const malformed = await raw("/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    const huge = await raw("/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ showId: "x".repeat(20_000) }),
    });
    expect(huge.status).toBe(413);
    expect((await t.api("GET", "/sessions/does-not-exist")).status).toBe(404);
    expect((await t.api("GET", "/executions/not-an-arn")).status).toBe(400);
    expect((await t.api("DELETE", "/sessions")).status).toBe(405);
    expect(t.h.rt.simulator.resources().ivs.channels).toEqual([]);
  });

  it("answers 503, not 500, when IVS throttles session creation, and leaves nothing behind", async () => {
    await t.fault({ service: "ivs", operation: "CreateChannel", error: "ThrottlingException", times: 10 });
    const res = await t.api("POST", "/sessions", { body: { showId: "busy" } });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("unavailable");
    expect(t.h.rt.simulator.resources().ivs.channels).toEqual([]);
  });
});
