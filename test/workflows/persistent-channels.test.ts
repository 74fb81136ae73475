import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { toMinutes } from "#lib/channels/model.ts";
import { putAssignment } from "#lib/channels/store.ts";
import { useLocalRuntime } from "./harness.ts";

// Hosts without a persistent channel are refused here (the legacy fallback is off).
// The local runtime's defaults, as production: no per-session program channels.
const t = useLocalRuntime();
const newHost = () => `host-${randomUUID().slice(0, 8)}`;

describe("sessions on persistent host channels", () => {
  it("keeps the host's playback URL across consecutive sessions and counts each broadcast once", async () => {
    const host = newHost();
    const channel = await t.persistentChannel(host);
    expect(channel).toMatchObject({
      hostUserId: host,
      state: "IDLE",
      totalBroadcasts: 0,
      totalStreamingMinutes: 0,
    });
    expect(channel).not.toHaveProperty("streamKey");

    const playbackUrls: string[] = [];
    let expectedMinutes = 0;
    for (const n of [1, 2]) {
      const sessionId = await t.createSession(host);
      const session = await t.session(sessionId, host);
      expect(session.ivs).toMatchObject({
        persistentChannelId: channel.channelId,
        persistentChannelArn: channel.channelArn,
        persistentPlaybackUrl: channel.playbackUrl,
        relayChannelArn: expect.stringContaining(":channel/"),
      });
      expect(session.ivs.programChannelArn).toBeUndefined();
      expect(await t.channel(channel.channelId)).toMatchObject({
        state: "LIVE",
        currentSessionId: sessionId,
      });

      const { execution } = await t.goLive(sessionId, host);
      expect(execution.status).toBe("SUCCEEDED");
      playbackUrls.push(JSON.parse(execution.output ?? "{}").playbackUrl);
      // MediaLive pushes to the persistent channel: that is the stream viewers see.
      expect(t.h.rt.simulator.resources().ivs.streams).toContainEqual(
        expect.objectContaining({ channelArn: channel.channelArn, state: "LIVE" }),
      );

      expect((await t.endSession(sessionId, host)).execution.status).toBe("SUCCEEDED");
      const after = await t.channel(channel.channelId);
      expect(after).toMatchObject({ state: "IDLE", totalBroadcasts: n });
      expect(after.currentSessionId).toBeUndefined();
      expect(after.lastBroadcastAt).toEqual(expect.any(String));
      const ended = await t.session(sessionId, host);
      expect(ended.end.streamedSeconds).toBeGreaterThan(0);
      expectedMinutes += toMinutes(ended.end.streamedSeconds);
      expect(after.totalStreamingMinutes).toBeCloseTo(expectedMinutes, 2);
      // The persistent IVS channel survives; the relay does not.
      expect(t.ivsChannelArns()).toContain(channel.channelArn);
      expect(t.ivsChannelArns()).not.toContain(session.ivs.relayChannelArn);
    }
    expect(playbackUrls[0]).toBe(channel.playbackUrl);
    expect(playbackUrls[1]).toBe(playbackUrls[0]);
  });

  it("answers the registry's errors: 403 without a channel, 409 in use, 503 offline, 500 misconfigured", async () => {
    const nobody = newHost();
    const noChannel = await t.api("POST", "/sessions", { user: nobody, body: { showId: "s" } });
    expect(noChannel.status).toBe(403);
    expect(noChannel.body.error.message).toBe("No channel assigned to your account. Please contact support.");

    const host = newHost();
    const channel = await t.persistentChannel(host);
    const holder = await t.createSession(host);
    const inUse = await t.api("POST", "/sessions", { user: host, body: { showId: "s" } });
    expect(inUse.status).toBe(409);
    // It names the session that holds the channel, and whether it is live.
    expect(inUse.body.error.message).toBe(
      `Channel is currently in use by session ${holder}, which is not live (streaming idle); end it (DELETE /sessions/${holder}) to free the channel.`,
    );
    expect(inUse.body.error.details).toMatchObject({ sessionId: holder, live: false });

    const offlineHost = newHost();
    const offlineChannel = await t.persistentChannel(offlineHost);
    const parked = await t.api("PUT", `/admin/channels/${offlineChannel.channelId}/state`, {
      user: "ops",
      admin: true,
      body: { newState: "OFFLINE" },
    });
    expect(parked.status).toBe(200);
    const offline = await t.api("POST", "/sessions", { user: offlineHost, body: { showId: "s" } });
    expect(offline.status).toBe(503);
    expect(offline.body.error.message).toBe("Channel is temporarily unavailable. Please contact support.");

    const broken = newHost();
    await putAssignment(broken, "no-such-channel");
    const misconfigured = await t.api("POST", "/sessions", { user: broken, body: { showId: "s" } });
    expect(misconfigured.status).toBe(500);
    expect(misconfigured.body.error.message).toBe("Channel configuration error. Please contact support.");

    // None of the refused requests left a relay channel behind.
    const relays = t.h.rt.simulator
      .resources()
      .ivs.channels.filter((c) => String(c.name).startsWith("castflow-relay-"));
    expect(relays).toHaveLength(1);
    expect(await t.channel(channel.channelId)).toMatchObject({ state: "LIVE" });
  });

  it("gives two concurrent creates for one host one session: 201 and 409", async () => {
    const host = newHost();
    const channel = await t.persistentChannel(host);
    const results = await Promise.all(
      [1, 2, 3].map(() => t.api("POST", "/sessions", { user: host, body: { showId: "race" } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const winner = results.find((r) => r.status === 201)?.body;
    expect(await t.channel(channel.channelId)).toMatchObject({
      state: "LIVE",
      currentSessionId: winner.sessionId,
    });
    const relays = t.h.rt.simulator
      .resources()
      .ivs.channels.filter((c) => String(c.name).startsWith("castflow-relay-"));
    expect(relays.map((c) => c.arn)).toEqual([winner.ivs.relayChannelArn]);
  });

  it("creates one relay when IVS's answer to CreateChannel is lost", async () => {
    const host = newHost();
    await t.persistentChannel(host);
    await t.fault({
      service: "ivs",
      operation: "CreateChannel",
      error: "InternalServerException",
      times: 1,
      after: true,
    });
    const res = await t.api("POST", "/sessions", { user: host, body: { showId: "s" } });
    expect(res.status).toBe(201);
    const relays = t.h.rt.simulator
      .resources()
      .ivs.channels.filter((c) => String(c.name).startsWith("castflow-relay-"));
    expect(relays.map((c) => c.arn)).toEqual([res.body.ivs.relayChannelArn]);
  });

  it("releases the claim when the relay channel cannot be created", async () => {
    const host = newHost();
    const channel = await t.persistentChannel(host);
    await t.fault({ service: "ivs", operation: "CreateChannel", error: "ThrottlingException", times: 10 });
    const res = await t.api("POST", "/sessions", { user: host, body: { showId: "s" } });
    expect(res.status).toBe(503);
    expect(await t.channel(channel.channelId)).toMatchObject({ state: "IDLE" });
    expect((await t.channel(channel.channelId)).currentSessionId).toBeUndefined();
  });

  it("keeps a channel claimed while its ended session's MediaLive may still push, and lets an admin recover it", async () => {
    const host = newHost();
    const channel = await t.persistentChannel(host);
    const admin = { user: "ops", admin: true };
    const path = `/admin/channels/${channel.channelId}/state`;
    const sessionId = await t.createSession(host);
    // An active session's claim is not freed by mistake.
    expect((await t.api("PUT", path, { ...admin, body: { newState: "IDLE" } })).status).toBe(409);

    await t.goLive(sessionId, host);
    await t.fault({ service: "medialive", operation: "StopChannel", error: "ForbiddenException", times: 1 });
    const end = await t.endSession(sessionId, host);
    expect(end.execution.status).toBe("FAILED");
    const ended = await t.session(sessionId, host);
    expect(ended.end.cleanupResults.mediaLive.success).toBe(false);
    expect(ended.end.cleanupResults.persistentChannel.error.code).toBe("ChannelStillInUse");
    // The old MediaLive channel still runs and pushes to the persistent channel: it stays claimed.
    expect(t.liveMediaLive().channels).toEqual([expect.objectContaining({ state: "RUNNING" })]);
    expect(await t.channel(channel.channelId)).toMatchObject({ state: "LIVE", currentSessionId: sessionId });
    expect((await t.api("POST", "/sessions", { user: host, body: { showId: "s" } })).status).toBe(409);

    // Recovery: the admin frees it, guarded by the session that holds it.
    expect(
      (await t.api("PUT", path, { ...admin, body: { newState: "IDLE", sessionId: "other" } })).status,
    ).toBe(409);
    const missingSession = await t.api("PUT", path, { ...admin, body: { newState: "LIVE" } });
    expect(missingSession.status).toBe(400);
    expect(missingSession.body.error.message).toContain("sessionId");
    const badState = await t.api("PUT", path, { ...admin, body: { newState: "BROKEN" } });
    expect(badState.status).toBe(400);
    expect(badState.body.error.message).toContain("newState");
    const recovered = await t.api("PUT", path, { ...admin, body: { newState: "IDLE", sessionId } });
    expect(recovered.status).toBe(200);
    expect(recovered.body).toMatchObject({ state: "IDLE", totalBroadcasts: 1 });
    expect((await t.api("POST", "/sessions", { user: host, body: { showId: "s" } })).status).toBe(201);
  });

  it("serves the registry to admins only, the assignment to its host, and refuses to delete a LIVE channel", async () => {
    const host = newHost();
    const channel = await t.persistentChannel(host);
    expect((await t.api("GET", "/admin/channels", { user: host })).status).toBe(403);
    const list = await t.api("GET", "/admin/channels", { user: "ops", admin: true });
    expect(list.body.channels.map((c: { channelId: string }) => c.channelId)).toContain(channel.channelId);

    const mine = await t.api("GET", `/hosts/${host}/channel`, { user: host });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({
      hostUserId: host,
      channelId: channel.channelId,
      channel: { state: "IDLE" },
    });
    expect((await t.api("GET", `/hosts/${host}/channel`, { user: "someone-else" })).status).toBe(404);

    // Reassigning a channel that belongs to another host is refused.
    const other = newHost();
    const taken = await t.api("PUT", `/admin/hosts/${other}/channel`, {
      user: "ops",
      admin: true,
      body: { channelId: channel.channelId },
    });
    expect(taken.status).toBe(409);

    await t.createSession(host);
    const del = await t.api("DELETE", `/admin/channels/${channel.channelId}`, { user: "ops", admin: true });
    expect(del.status).toBe(409);
    expect(t.ivsChannelArns()).toContain(channel.channelArn);
  });

  it("deletes an idle persistent channel with its IVS channel and assignment", async () => {
    const host = newHost();
    const channel = await t.persistentChannel(host);
    const del = await t.api("DELETE", `/admin/channels/${channel.channelId}`, { user: "ops", admin: true });
    expect(del.status).toBe(200);
    expect(t.ivsChannelArns()).not.toContain(channel.channelArn);
    expect((await t.api("GET", `/hosts/${host}/channel`, { user: host })).status).toBe(404);
    expect((await t.api("POST", "/sessions", { user: host, body: { showId: "s" } })).status).toBe(403);
  });
});
