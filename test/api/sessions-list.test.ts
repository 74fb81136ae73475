import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { IvsClient } from "@aws-sdk/client-ivs";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { channelKey, hostKey } from "#lib/channels/model.ts";
import type { Session, SessionStatus } from "#lib/sessions/model.ts";
import { item, makeSession, TABLE, useTestEnv } from "#test/tasks/helpers.ts";
import {
  ADMIN_CLAIMS,
  assignmentItem,
  CHANNEL_ID,
  call,
  channelItem,
  HOST,
  makeChannel,
  request,
} from "./helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const ivs = mockClient(IvsClient);

const session = (sessionId: string, createdAt: string, overrides: Partial<Session> = {}): Session => ({
  ...makeSession({ sessionId }),
  createdAt,
  ...overrides,
});

/** What a Query of an index returns for a session: its keys, the index's keys (and `status`). */
const entry = (s: Session) => ({ ...item(s) }) as Record<string, unknown>;
const indexEntry = (s: Session) => {
  const { pk, sk, hostUserId, createdAt, status } = entry(s);
  return { pk, sk, hostUserId, createdAt, status };
};

/** The table answers BatchGet with these sessions (in another order than asked, as DynamoDB may). */
function givenStored(sessions: Session[]): void {
  ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => {
    const keys = input.RequestItems[TABLE]?.Keys ?? [];
    const found = sessions.filter((s) => keys.some((k) => k.pk === `SESSION#${s.sessionId}`));
    return { Responses: { [TABLE]: found.reverse().map(item) } };
  });
}

const list = (query: Record<string, string>, claims?: Record<string, string | string[]>) => {
  const event = request("GET", "/sessions", claims ? { claims } : {});
  return call({ ...event, queryStringParameters: query });
};

const ccf = () => new ConditionalCheckFailedException({ message: "failed", $metadata: {} });

describe("API: GET /sessions", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    ivs.reset();
    useTestEnv();
  });

  it("lists the caller's sessions newest first with one Query of the host index, never a Scan", async () => {
    // Prepare: the index answers newest first; the channel record that shares its keys is filtered by DynamoDB.
    const older = session("s-old", "2025-01-01T00:00:00.000Z");
    const newer = session("s-new", "2025-02-01T00:00:00.000Z");
    ddb.on(QueryCommand).resolves({ Items: [indexEntry(newer), indexEntry(older)] });
    givenStored([older, newer]);

    // Act
    const res = await call(request("GET", "/sessions"));

    // Assess
    expect(res.status).toBe(200);
    expect((res.body.sessions as Session[]).map((s) => s.sessionId)).toEqual(["s-new", "s-old"]);
    expect(res.body.nextToken).toBeUndefined();
    const [query] = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(query).toMatchObject({
      TableName: TABLE,
      IndexName: "byHost",
      ScanIndexForward: false,
      ExpressionAttributeNames: { "#p": "hostUserId" },
      ExpressionAttributeValues: { ":p": HOST, ":sk": "SESSION" },
    });
    expect(query?.FilterExpression).toContain("sk = :sk");
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
    expect(ddb.calls().map((c) => c.args[0].constructor.name)).not.toContain("ScanCommand");
  });

  it("pages with limit and nextToken: the next page starts after the last session answered", async () => {
    const a = session("s-a", "2025-03-01T00:00:00.000Z");
    const b = session("s-b", "2025-02-01T00:00:00.000Z");
    const c = session("s-c", "2025-01-01T00:00:00.000Z");
    // limit 1 reads 2 (one more tells whether a next page exists)
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [indexEntry(a), indexEntry(b)], LastEvaluatedKey: indexEntry(b) })
      .resolvesOnce({ Items: [indexEntry(b), indexEntry(c)] });
    givenStored([a, b, c]);

    const first = await list({ limit: "1" });
    expect((first.body.sessions as Session[]).map((s) => s.sessionId)).toEqual(["s-a"]);
    expect(typeof first.body.nextToken).toBe("string");

    const second = await list({ limit: "1", nextToken: first.body.nextToken as string });
    expect((second.body.sessions as Session[]).map((s) => s.sessionId)).toEqual(["s-b"]);
    const queries = ddb.commandCalls(QueryCommand).map((q) => q.args[0].input);
    expect(queries[1]?.ExclusiveStartKey).toEqual({
      pk: "SESSION#s-a",
      sk: "SESSION",
      createdAt: "2025-03-01T00:00:00.000Z",
      hostUserId: HOST,
    });
    expect(queries.map((q) => q.Limit)).toEqual([2, 2]);
  });

  it("answers 403 to a host asking for another host's sessions, reading nothing", async () => {
    const res = await list({ hostUserId: "someone-else" });

    expect(res.status).toBe(403);
    expect(res.error?.code).toBe("forbidden");
    expect(ddb.calls()).toHaveLength(0);
  });

  it("gives admins every host's sessions: one Query per status, merged newest first", async () => {
    const byStatus: Record<SessionStatus, Session[]> = {
      active: [session("act-2", "2025-04-01T00:00:00.000Z"), session("act-1", "2025-01-01T00:00:00.000Z")],
      ending: [],
      ended: [session("end-1", "2025-03-01T00:00:00.000Z", { status: "ended", hostUserId: "other-host" })],
    };
    ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: { ":p": SessionStatus } }) => ({
      Items: byStatus[input.ExpressionAttributeValues[":p"]].map(indexEntry),
    }));
    givenStored(Object.values(byStatus).flat());

    const res = await list({}, ADMIN_CLAIMS as Record<string, string | string[]>);

    expect(res.status).toBe(200);
    expect((res.body.sessions as Session[]).map((s) => s.sessionId)).toEqual(["act-2", "end-1", "act-1"]);
    const queries = ddb.commandCalls(QueryCommand).map((q) => q.args[0].input);
    expect(queries.map((q) => q.IndexName)).toEqual(["byStatus", "byStatus", "byStatus"]);
    expect(queries.map((q) => q.ExpressionAttributeValues?.[":p"]).sort()).toEqual([
      "active",
      "ended",
      "ending",
    ]);
  });

  it("lets admins filter by host and status: the host index, filtered on status", async () => {
    const ended = session("end-1", "2025-03-01T00:00:00.000Z", { status: "ended", hostUserId: "host-b" });
    ddb.on(QueryCommand).resolves({ Items: [indexEntry(ended)] });
    givenStored([ended]);

    const res = await list(
      { hostUserId: "host-b", status: "ended" },
      ADMIN_CLAIMS as Record<string, string[]>,
    );

    expect((res.body.sessions as Session[]).map((s) => s.sessionId)).toEqual(["end-1"]);
    const [query] = ddb.commandCalls(QueryCommand).map((q) => q.args[0].input);
    expect(query).toMatchObject({
      IndexName: "byHost",
      ExpressionAttributeValues: { ":p": "host-b", ":status": "ended" },
    });
  });

  it.each([
    [{ limit: "0" }, "limit", "limit must be a whole number from 1 to 100"],
    [{ limit: "ten" }, "limit", "limit must be a whole number from 1 to 100"],
    [{ status: "live" }, "status", "status must be one of active, ending, ended"],
  ])("answers 400 naming the parameter for %o", async (query, field, message) => {
    const res = await list(query);

    expect(res.status).toBe(400);
    expect(res.error?.message).toBe(message);
    expect(res.error?.details).toEqual({ fields: [{ field, reason: message.slice(field.length + 1) }] });
    expect(ddb.calls()).toHaveLength(0);
  });

  it("refuses a nextToken this listing did not hand out (another host's, or altered)", async () => {
    const other = Buffer.from(
      JSON.stringify({
        v: 1,
        p: { "host:someone-else": { pk: "SESSION#x", sk: "SESSION", createdAt: "x" } },
      }),
    ).toString("base64url");

    for (const nextToken of [other, "not-a-token"]) {
      const res = await list({ nextToken });
      expect(res.status).toBe(400);
      expect(res.error?.message).toBe("nextToken is not a token of this listing; list again without it");
    }
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe("API: 409 channel_in_use names the session that holds the channel", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    ivs.reset();
    useTestEnv();
  });

  function givenChannelHeldBy(holder: Session | undefined): void {
    ddb.on(GetCommand, { Key: hostKey(HOST) }).resolves({ Item: assignmentItem(HOST, CHANNEL_ID) });
    ddb.on(GetCommand, { Key: channelKey(CHANNEL_ID) }).resolves({
      Item: channelItem(
        makeChannel({ state: "LIVE", currentSessionId: "held-1", updatedAt: new Date().toISOString() }),
      ),
    });
    ddb
      .on(GetCommand, { Key: { pk: "SESSION#held-1", sk: "SESSION" } })
      .resolves(holder ? { Item: item(holder) } : {});
    ddb.on(UpdateCommand).rejects(ccf());
  }
  const create = () => call(request("POST", "/sessions", { body: { showId: "show-2" } }));

  it("says the holder is live, in the message and as fields", async () => {
    givenChannelHeldBy(
      makeSession({ sessionId: "held-1", streaming: { isLive: true, status: "live", attempt: 1 } }),
    );

    const res = await create();

    expect(res.status).toBe(409);
    expect(res.error?.code).toBe("channel_in_use");
    expect(res.error?.message).toBe(
      "Channel is currently in use by session held-1, which is live; end it (DELETE /sessions/held-1) before creating another session.",
    );
    expect(res.error?.details).toEqual({
      sessionId: "held-1",
      live: true,
      sessionStatus: "active",
      streamingStatus: "live",
    });
    expect(ivs.calls()).toHaveLength(0);
  });

  it("says a forgotten session is not live and how to free the channel", async () => {
    givenChannelHeldBy(makeSession({ sessionId: "held-1" }));

    const res = await create();

    expect(res.status).toBe(409);
    expect(res.error?.message).toBe(
      "Channel is currently in use by session held-1, which is not live (streaming idle); end it (DELETE /sessions/held-1) to free the channel.",
    );
    expect(res.error?.details).toMatchObject({ sessionId: "held-1", live: false, streamingStatus: "idle" });
  });

  it("does not name another host's session (a channel moved between hosts)", async () => {
    givenChannelHeldBy(makeSession({ sessionId: "held-1", hostUserId: "previous-host" }));

    const res = await create();

    expect(res.status).toBe(409);
    expect(res.error?.message).toBe("Channel is currently in use. Please try again later.");
    expect(JSON.stringify(res.body)).not.toContain("held-1");
  });
});

describe("API: answers that explain", () => {
  beforeEach(() => {
    ddb.reset();
    useTestEnv();
  });

  it("answers GET /health without any claims", async () => {
    const event = request("GET", "/health");
    const res = await call({
      ...event,
      requestContext: { ...event.requestContext, authorizer: undefined as never },
    });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(ddb.calls()).toHaveLength(0);
  });

  it("says why a verified token is refused: no subject", async () => {
    const res = await call(request("GET", "/sessions", { claims: { groups: ["admin"] } }));

    expect(res.status).toBe(401);
    expect(res.error).toEqual({
      code: "unauthorized",
      message: "The token has no subject (sub claim) to act as.",
      details: { reason: "no_subject" },
    });
  });

  it.each([
    [{}, "showId is required", [{ field: "showId", reason: "is required" }]],
    [{ showId: "" }, "showId must not be empty", [{ field: "showId", reason: "must not be empty" }]],
    [
      { showId: "x".repeat(65) },
      "showId must be at most 64 characters",
      [{ field: "showId", reason: "must be at most 64 characters" }],
    ],
    [{ showId: 7 }, "showId must be a string", [{ field: "showId", reason: "must be a string" }]],
    [
      { showId: "show-1", colour: "red", episodeId: "a b" },
      "episodeId may contain only letters, digits, '.', '_' and '-'; colour is not a known field",
      [
        { field: "episodeId", reason: "may contain only letters, digits, '.', '_' and '-'" },
        { field: "colour", reason: "is not a known field" },
      ],
    ],
  ])("words validation as sentences, one reason per field: %o", async (body, message, fields) => {
    const res = await call(request("POST", "/sessions", { body }));

    expect(res.status).toBe(400);
    expect(res.error).toEqual({ code: "bad_request", message, details: { fields } });
    expect(ivs.calls()).toHaveLength(0);
  });

  it("words a body that is not JSON as a sentence", async () => {
    const res = await call(
      request("POST", "/sessions", { rawBody: '{"showId": ', contentType: "application/json" }),
    );

    expect(res.error).toEqual({
      code: "bad_request",
      message: "body is not valid JSON",
      details: { fields: [{ field: "body", reason: "is not valid JSON" }] },
    });
  });
});
