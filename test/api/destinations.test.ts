/**
 * The destinations API's input checks and refusals, through the HTTP API of the local runtime
 * (real route handler, DynamoDB Local, the simulated MediaLive/MediaConnect/SSM): every refusal
 * is checked to create nothing.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { useLocalRuntime } from "#test/workflows/harness.ts";

const t = useLocalRuntime();

const ADMIN = { user: "ops", admin: true } as const;
const YT_KEY = "abcd-efgh-ijkl-mnop-qrst";
const TWITCH_KEY = "live_123456789_AbCdEfGhIjKlMnOp";

interface ErrorEnvelope {
  error: { code: string; message: string; details?: { fields?: { field: string; reason: string }[] } };
}

/** The answer is exactly the error envelope: `{error: {code, message, details?}}`, nothing else. */
function expectEnvelope(body: unknown, status: number, code: string): ErrorEnvelope["error"] {
  expect(status).not.toBe(500);
  expect(Object.keys(body as object)).toEqual(["error"]);
  const { error } = body as ErrorEnvelope;
  expect(Object.keys(error).every((k) => ["code", "message", "details"].includes(k))).toBe(true);
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe("string");
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

/** A 400 that names `field` in its message and in `details.fields`. */
function expectFieldError(res: { status: number; body: unknown }, field: string): ErrorEnvelope["error"] {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  const error = expectEnvelope(res.body, res.status, "bad_request");
  expect(error.message).toContain(field);
  expect(error.details?.fields?.map((f) => f.field)).toContain(field);
  return error;
}

/** Nothing was created for a refused request: no input, no channel, no key parameter. */
async function expectNothingCreated() {
  const r = t.h.rt.simulator.resources();
  expect(r.medialive.channels).toEqual([]);
  expect(r.medialive.inputs).toEqual([]);
  expect(r.ssm.parameters).toEqual([]);
  expect(await t.calls("ssm", "PutParameter")).toBe(0);
}

let sourceId = "";

async function newSource(): Promise<string> {
  const res = await t.api("POST", "/admin/sources", {
    ...ADMIN,
    body: { name: "api-src", protocol: "srt-listener" },
  });
  expect(res.status).toBe(201);
  return res.body.sourceId as string;
}

describe("API: POST /destinations input checks", () => {
  beforeAll(async () => {
    sourceId = await newSource();
  });

  const base = () => ({ name: "Dest", platform: "youtube", sourceId, streamKey: YT_KEY });

  const cases: { title: string; body: () => Record<string, unknown>; field: string; reason?: RegExp }[] = [
    {
      title: "an unknown platform",
      body: () => ({ ...base(), platform: "myspace" }),
      field: "platform",
      reason: /youtube/,
    },
    {
      title: "an rtmpUrl with http://",
      body: () => ({
        ...base(),
        platform: "custom",
        streamKey: "custom-key-123",
        rtmpUrl: "http://ingest.example.com/live",
      }),
      field: "rtmpUrl",
      reason: /not http:/,
    },
    {
      title: "facebook with rtmp:// (RTMPS only)",
      body: () => ({
        ...base(),
        platform: "facebook",
        streamKey: "FB-1234567890-0-AbCdEf",
        rtmpUrl: "rtmp://live-api-s.facebook.com:80/rtmp/",
      }),
      field: "rtmpUrl",
      reason: /RTMPS only/,
    },
    {
      title: "custom without rtmpUrl",
      body: () => ({ ...base(), platform: "custom", streamKey: "custom-key-123" }),
      field: "rtmpUrl",
    },
    {
      title: "linkedin without rtmpUrl",
      body: () => ({ ...base(), platform: "linkedin", streamKey: "linkedin-key-123" }),
      field: "rtmpUrl",
    },
    {
      title: "a malformed YouTube key",
      body: () => ({ ...base(), streamKey: "abcd-efgh" }),
      field: "streamKey",
    },
    {
      title: "a YouTube key with a space",
      body: () => ({ ...base(), streamKey: "abcd efgh-ijkl-mnop-qrst" }),
      field: "streamKey",
    },
    {
      title: "a key that is not Twitch-shaped on twitch",
      body: () => ({ ...base(), platform: "twitch", streamKey: YT_KEY }),
      field: "streamKey",
      reason: /Twitch/,
    },
    {
      title: "twitch at 1080p60 (above its 6 Mb/s)",
      body: () => ({ ...base(), platform: "twitch", streamKey: TWITCH_KEY, preset: "1080p60" }),
      field: "preset",
      reason: /6 Mb\/s/,
    },
    {
      title: "an unknown preset",
      body: () => ({ ...base(), preset: "4k120" }),
      field: "preset",
    },
    {
      title: "backupRtmpUrl without backupStreamKey",
      body: () => ({ ...base(), backupRtmpUrl: "rtmp://b.rtmp.youtube.com/live2?backup=1" }),
      field: "backupStreamKey",
    },
    {
      title: "a backup URL with http://",
      body: () => ({ ...base(), backupRtmpUrl: "http://b.example.com/live", backupStreamKey: YT_KEY }),
      field: "backupRtmpUrl",
    },
    {
      title: "failoverEnabled without a backup",
      body: () => ({ ...base(), failoverEnabled: true }),
      field: "failoverEnabled",
    },
    {
      title: "a backup key on a platform without a default backup URL",
      body: () => ({ ...base(), platform: "twitch", streamKey: TWITCH_KEY, backupStreamKey: TWITCH_KEY }),
      field: "backupRtmpUrl",
    },
    {
      title: "a missing stream key",
      body: () => {
        const { streamKey: _k, ...rest } = base();
        return rest;
      },
      field: "streamKey",
    },
    {
      title: "an invalid sourceId",
      body: () => ({ ...base(), sourceId: "not a valid id!" }),
      field: "sourceId",
    },
  ];

  it.each(cases)("400 naming the field for $title, creating nothing", async ({ body, field, reason }) => {
    const res = await t.api("POST", "/destinations", { body: body() });
    const error = expectFieldError(res, field);
    if (reason) expect(error.details?.fields?.find((f) => f.field === field)?.reason).toMatch(reason);
    await expectNothingCreated();
  });

  it("400 naming an unknown body field", async () => {
    const res = await t.api("POST", "/destinations", { body: { ...base(), colour: "blue" } });
    expect(res.status).toBe(400);
    const error = expectEnvelope(res.body, res.status, "bad_request");
    expect(error.message).toContain("colour");
    expect(JSON.stringify(error.details)).toContain("colour");
    await expectNothingCreated();
  });

  it("a refusal never echoes the stream key", async () => {
    const key = "live_987654321_SecretSecretSecret";
    const res = await t.api("POST", "/destinations", {
      body: { ...base(), platform: "twitch", streamKey: key, preset: "1080p60" },
    });
    expect(res.status).toBe(400);
    expect(res.raw).not.toContain(key);
  });

  it("400 for a body that is not JSON, 415 for one that is not declared JSON: never 500", async () => {
    const token = await t.token("host-1");
    const send = (body: string, contentType: string) =>
      fetch(`${t.h.rt.endpoints.api}/destinations`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": contentType },
        body,
      }).then(async (r) => ({ status: r.status, body: JSON.parse(await r.text()) }));
    const notJson = await send("{not json", "application/json");
    expect(notJson.status).toBe(400);
    expectEnvelope(notJson.body, notJson.status, "bad_request");
    const text = await send(JSON.stringify(base()), "text/plain");
    expect(text.status).toBe(415);
    expectEnvelope(text.body, text.status, "unsupported_media_type");
    await expectNothingCreated();
  });

  it("404 for an unknown source, creating nothing", async () => {
    const res = await t.api("POST", "/destinations", { body: { ...base(), sourceId: randomUUID() } });
    expect(res.status).toBe(404);
    const error = expectEnvelope(res.body, res.status, "not_found");
    expect(error.message).toMatch(/source/i);
    await expectNothingCreated();
  });
});

describe("API: other destination routes refuse bad input with the envelope", () => {
  let destinationId = "";
  beforeAll(async () => {
    sourceId = await newSource();
    const res = await t.api("POST", "/destinations", {
      body: { name: "Dest", platform: "youtube", sourceId, streamKey: YT_KEY },
    });
    expect(res.status).toBe(202);
    expect((await t.waitFor(res.body.executionArn)).status).toBe("SUCCEEDED");
    destinationId = res.body.destinationId as string;
  });

  it("PUT with an http:// rtmpUrl: 400 rtmpUrl", async () => {
    const res = await t.api("PUT", `/destinations/${destinationId}`, {
      body: { rtmpUrl: "http://x.example.com/a" },
    });
    expectFieldError(res, "rtmpUrl");
  });

  it("PUT with a malformed YouTube key: 400 streamKey", async () => {
    const res = await t.api("PUT", `/destinations/${destinationId}`, { body: { streamKey: "nope" } });
    expectFieldError(res, "streamKey");
  });

  it("PUT with an unknown field, or nothing to change: 400", async () => {
    const unknown = await t.api("PUT", `/destinations/${destinationId}`, { body: { platform: "twitch" } });
    expect(unknown.status).toBe(400);
    expect(expectEnvelope(unknown.body, unknown.status, "bad_request").message).toContain("platform");
    const empty = await t.api("PUT", `/destinations/${destinationId}`, { body: {} });
    expect(empty.status).toBe(400);
    expectEnvelope(empty.body, empty.status, "bad_request");
  });

  it("PUT failoverEnabled without a backup: 400 failoverEnabled", async () => {
    const res = await t.api("PUT", `/destinations/${destinationId}`, { body: { failoverEnabled: true } });
    expectFieldError(res, "failoverEnabled");
  });

  it("failover to a backup the destination does not have: 400 `to`; a bad `to`: 400 `to`", async () => {
    const none = await t.api("POST", `/destinations/${destinationId}/failover`, { body: { to: "backup" } });
    expectFieldError(none, "to");
    const bad = await t.api("POST", `/destinations/${destinationId}/failover`, { body: { to: "sideways" } });
    expectFieldError(bad, "to");
  });

  it("404 for an unknown destination and for a malformed id", async () => {
    for (const id of [randomUUID(), "no such id!"]) {
      const res = await t.api("GET", `/destinations/${encodeURIComponent(id)}`);
      expect(res.status).toBe(404);
      expectEnvelope(res.body, res.status, "not_found");
    }
    const start = await t.api("POST", `/destinations/${randomUUID()}/start`);
    expect(start.status).toBe(404);
    expectEnvelope(start.body, start.status, "not_found");
  });

  it("GET /destinations?sourceId= with a malformed id: 400 sourceId", async () => {
    const res = await t.api("GET", `/destinations?sourceId=${encodeURIComponent("bad id!")}`);
    expectFieldError(res, "sourceId");
  });
});

describe("API: AWS throttling while checking a request is never a 500", () => {
  // Each call fails as often as the SDK client tries it (3 attempts), so the API sees the error.
  it.each([
    { service: "medialive", operation: "ListChannels", error: "TooManyRequestsException" },
    { service: "mediaconnect", operation: "DescribeFlow", error: "ServiceUnavailableException" },
    { service: "ssm", operation: "PutParameter", error: "ThrottlingException" },
  ])(
    "POST /destinations with $service $operation throttled: a retryable 429/503, not 500, nothing created",
    async (fault) => {
      sourceId = await newSource();
      await t.fault({ ...fault, times: 3 });
      const key = "wxyz-1234-5678-9abc-defg";
      const res = await t.api("POST", "/destinations", {
        body: { name: "Dest", platform: "youtube", sourceId, streamKey: key },
      });
      expect(await t.calls(fault.service, fault.operation)).toBeGreaterThanOrEqual(3);
      expect([429, 503], `${res.status} ${res.raw}`).toContain(res.status);
      expect((res.body as ErrorEnvelope).error.code).not.toBe("internal");
      expect(res.raw).not.toContain(key);
      expect(t.h.rt.simulator.resources().medialive.inputs).toEqual([]);
      expect(t.h.rt.simulator.resources().ssm.parameters).toEqual([]);
    },
  );
});

describe("API: quotas", () => {
  it("429 once the MediaLive channel quota (5) is reached, before creating anything; room again after a delete", async () => {
    sourceId = await newSource();
    const user = `host-${randomUUID().slice(0, 8)}`;
    const add = (n: number) =>
      t.api("POST", "/destinations", {
        user,
        body: { name: `D${n}`, platform: "youtube", sourceId, streamKey: YT_KEY },
      });
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) {
      const res = await add(n);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect((await t.waitFor(res.body.executionArn)).status).toBe("SUCCEEDED");
      ids.push(res.body.destinationId as string);
    }
    expect(t.liveMediaLive().channels).toHaveLength(5);
    const inputsBefore = await t.calls("medialive", "CreateInput");
    const paramsBefore = t.h.rt.simulator.resources().ssm.parameters.length;

    const refused = await add(6);
    expect(refused.status).toBe(429);
    const error = expectEnvelope(refused.body, refused.status, "quota_exceeded");
    expect(error.message).toMatch(/quota/i);
    expect(error.details).toMatchObject({ quota: "medialive-channels", used: 5, limit: 5 });
    // Refused before creating anything: no input, no key parameter, no record.
    expect(await t.calls("medialive", "CreateInput")).toBe(inputsBefore);
    expect(await t.calls("medialive", "CreateChannel")).toBe(5);
    expect(t.h.rt.simulator.resources().ssm.parameters).toHaveLength(paramsBefore);
    const list = await t.api("GET", "/destinations", { user });
    expect(list.body.destinations).toHaveLength(5);

    // One deleted: there is room again.
    const del = await t.api("DELETE", `/destinations/${ids[0]}`, { user });
    expect(del.status).toBe(202);
    expect((await t.waitFor(del.body.executionArn)).status).toBe("SUCCEEDED");
    const again = await add(7);
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect((await t.waitFor(again.body.executionArn)).status).toBe("SUCCEEDED");
  });
});
