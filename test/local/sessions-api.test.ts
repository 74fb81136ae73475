import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useLocalRuntime } from "#test/workflows/harness.ts";

// The local runtime on DynamoDB Local: the table and its session indexes as `ensureTable` makes them.
const t = useLocalRuntime({ legacyProgramChannels: true });

const newHost = () => `host-${randomUUID().slice(0, 8)}`;

/** Creates `n` sessions for `host`, oldest first (createdAt has millisecond resolution). */
async function sessionsOf(host: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await t.createSession(host));
    await new Promise((r) => setTimeout(r, 5));
  }
  return ids;
}

type Listed = { sessions: { sessionId: string; hostUserId: string; status: string }[]; nextToken?: string };

async function list(query: string, user: string, admin = false) {
  const res = await t.api("GET", `/sessions${query}`, { user, admin });
  return { status: res.status, body: res.body as Listed };
}

describe("GET /sessions on DynamoDB Local", () => {
  it("lists a host's own sessions newest first, never another host's", async () => {
    const hostA = newHost();
    const hostB = newHost();
    const mine = await sessionsOf(hostA, 3);
    const theirs = await sessionsOf(hostB, 1);

    const res = await list("", hostA);

    expect(res.status).toBe(200);
    expect(res.body.sessions.map((s) => s.sessionId)).toEqual([...mine].reverse());
    expect(res.body.sessions.map((s) => s.sessionId)).not.toContain(theirs[0]);
    expect(res.body.nextToken).toBeUndefined();
    // ?hostUserId= of another host is for admins only.
    expect((await list(`?hostUserId=${hostB}`, hostA)).status).toBe(403);
  });

  it("pages with limit and nextToken, the last page without a token", async () => {
    const host = newHost();
    const ids = await sessionsOf(host, 5);

    const seen: string[] = [];
    const pages: number[] = [];
    let token: string | undefined;
    do {
      const res = await list(`?limit=2${token ? `&nextToken=${token}` : ""}`, host);
      expect(res.status).toBe(200);
      seen.push(...res.body.sessions.map((s) => s.sessionId));
      pages.push(res.body.sessions.length);
      token = res.body.nextToken;
    } while (token);

    expect(seen).toEqual([...ids].reverse());
    expect(pages).toEqual([2, 2, 1]);
  });

  it("gives admins every host's sessions, one host's, or one status's", async () => {
    const hostA = newHost();
    const hostB = newHost();
    const [a1] = await sessionsOf(hostA, 1);
    const [b1, b2] = await sessionsOf(hostB, 2);
    await t.endSession(b1 ?? "", hostB);

    const all = await list("?limit=100", "ops", true);
    expect(all.body.sessions.map((s) => s.sessionId)).toEqual(expect.arrayContaining([a1, b1, b2]));
    const times = all.body.sessions.map((s) => (s as unknown as { createdAt: string }).createdAt);
    expect(times).toEqual([...times].sort().reverse());

    const ofB = await list(`?hostUserId=${hostB}`, "ops", true);
    expect(ofB.body.sessions.map((s) => s.sessionId)).toEqual([b2, b1]);

    const endedOfB = await list(`?hostUserId=${hostB}&status=ended`, "ops", true);
    expect(endedOfB.body.sessions.map((s) => s.sessionId)).toEqual([b1]);

    const ended = await list("?status=ended&limit=100", "ops", true);
    expect(ended.body.sessions.map((s) => s.sessionId)).toContain(b1);
    expect(ended.body.sessions.every((s) => s.status === "ended")).toBe(true);

    // A host filters its own by status too.
    const activeOfB = await list("?status=active", hostB);
    expect(activeOfB.body.sessions.map((s) => s.sessionId)).toEqual([b2]);
  });

  it("refuses a nextToken made for another host", async () => {
    const hostA = newHost();
    await sessionsOf(hostA, 2);
    const first = await list("?limit=1", hostA);
    expect(first.body.nextToken).toBeDefined();

    const res = await t.api("GET", `/sessions?nextToken=${first.body.nextToken}`, { user: newHost() });

    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({
      fields: [{ field: "nextToken", reason: "is not a token of this listing; list again without it" }],
    });
  });
});

describe("409 channel_in_use through the local API", () => {
  it("names the session that holds the host's channel, and whether it is live", async () => {
    const host = newHost();
    await t.persistentChannel(host);
    const holder = await t.createSession(host);

    const idle = await t.api("POST", "/sessions", { user: host, body: { showId: "again" } });
    expect(idle.status).toBe(409);
    expect(idle.body.error.code).toBe("channel_in_use");
    expect(idle.body.error.message).toBe(
      `Channel is currently in use by session ${holder}, which is not live (streaming idle); end it (DELETE /sessions/${holder}) to free the channel.`,
    );
    expect(idle.body.error.details).toEqual({
      sessionId: holder,
      live: false,
      sessionStatus: "active",
      streamingStatus: "idle",
    });

    expect((await t.goLive(holder, host)).execution.status).toBe("SUCCEEDED");
    const live = await t.api("POST", "/sessions", { user: host, body: { showId: "again" } });
    expect(live.status).toBe(409);
    expect(live.body.error.message).toContain(`session ${holder}, which is live`);
    expect(live.body.error.details).toMatchObject({ sessionId: holder, live: true, streamingStatus: "live" });
  });
});
