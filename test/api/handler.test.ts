import { randomUUID } from "node:crypto";
import { CreateChannelCommand, DeleteChannelCommand, IvsClient } from "@aws-sdk/client-ivs";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "#api/handler.ts";
import type { Session } from "#lib/sessions/model.ts";
import {
  awsError,
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  makeSession,
  PROGRAM_CHANNEL_ARN,
  STOP_SM,
  TABLE,
  useTestEnv,
} from "#test/tasks/helpers.ts";
import { request as buildRequest, type Claims, call, HOST } from "./helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const ivs = mockClient(IvsClient);

/** Made at run time: no key-shaped literal in the code. */
const STREAM_KEY = `sk_us-east-1_${randomUUID().replaceAll("-", "")}`;
interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

/** A request whose body is sent as it is (these tests exercise malformed and non-JSON bodies). */
const request = (
  method: string,
  path: string,
  opts: { body?: string; contentType?: string; claims?: Claims } = {},
) =>
  buildRequest(method, path, {
    ...(opts.body !== undefined ? { rawBody: opts.body } : {}),
    ...(opts.contentType !== undefined ? { contentType: opts.contentType } : {}),
    ...(opts.claims ? { claims: opts.claims } : {}),
  });

const errorOf = (body: Record<string, unknown>) => (body as unknown as ErrorBody).error;

function givenSession(session: Session): void {
  ddb
    .on(GetCommand, { Key: { pk: `SESSION#${session.sessionId}`, sk: "SESSION" } })
    .resolves({ Item: item(session) });
}

const postJson = (path: string, body: string, claims?: Claims) =>
  request("POST", path, { body, contentType: "application/json", ...(claims ? { claims } : {}) });

describe("API route()", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    ivs.reset();
    useTestEnv();
  });

  describe("routing and auth", () => {
    it("answers 401 without a sub claim", async () => {
      givenSession(makeSession());

      const res = await call(request("GET", "/sessions/s1", { claims: { "cognito:groups": "[admin]" } }));

      expect(res.status).toBe(401);
      expect(errorOf(res.body).code).toBe("unauthorized");
      expect(ddb.calls()).toHaveLength(0);
    });

    it("answers 404 for an unknown route", async () => {
      const res = await call(request("GET", "/channels"));

      expect(res.status).toBe(404);
      expect(errorOf(res.body).code).toBe("not_found");
    });

    it("answers 405 for a known path with the wrong method", async () => {
      const res = await call(request("PUT", "/sessions/s1"));

      expect(res.status).toBe(405);
      expect(errorOf(res.body).details).toEqual({ allowed: ["GET", "DELETE"] });
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe("POST /sessions", () => {
    it("refuses a body that is not JSON with 415", async () => {
      const res = await call(request("POST", "/sessions", { body: "showId=x", contentType: "text/plain" }));

      expect(res.status).toBe(415);
      expect(ivs.calls()).toHaveLength(0);
    });

    it("refuses a body over 16 KiB with 413", async () => {
      const big = JSON.stringify({ showId: "x", pad: "a".repeat(MAX_BODY_BYTES) });

      const res = await call(postJson("/sessions", big));

      expect(MAX_BODY_BYTES).toBe(16 * 1024);
      expect(res.status).toBe(413);
      expect(ivs.calls()).toHaveLength(0);
    });

    it("refuses invalid JSON with 400", async () => {
      const res = await call(postJson("/sessions", '{"showId": '));

      expect(res.status).toBe(400);
      expect(errorOf(res.body).code).toBe("bad_request");
      expect(ivs.calls()).toHaveLength(0);
    });

    it("names the invalid field in the message and details", async () => {
      const res = await call(postJson("/sessions", JSON.stringify({ showId: "" })));

      expect(res.status).toBe(400);
      const error = errorOf(res.body);
      expect(error.message).toContain("showId");
      const { fields } = error.details as { fields: { field: string; reason: string }[] };
      // "" breaks both the length and the character rule: each is reported against showId
      expect(fields.length).toBeGreaterThan(0);
      expect(new Set(fields.map((f) => f.field))).toEqual(new Set(["showId"]));
      expect(ivs.calls()).toHaveLength(0);
    });

    it("refuses an unknown extra field with 400", async () => {
      const res = await call(
        postJson("/sessions", JSON.stringify({ showId: "show-1", hostUserId: "someone-else" })),
      );

      expect(res.status).toBe(400);
      expect(errorOf(res.body).message).toContain("hostUserId");
      expect(ivs.calls()).toHaveLength(0);
      expect(ddb.calls()).toHaveLength(0);
    });

    it("creates the session with its IVS channel and never returns the stream key", async () => {
      // Prepare
      ivs.on(CreateChannelCommand).resolves({
        channel: {
          arn: PROGRAM_CHANNEL_ARN,
          ingestEndpoint: "abc123.global-contribute.live-video.net",
          playbackUrl: "https://abc123.playback.live-video.net/prog1.m3u8",
        },
        streamKey: { arn: "arn:aws:ivs:us-east-1:000000000000:stream-key/key1", value: STREAM_KEY },
      });
      ddb.on(GetCommand).resolves({}); // no persistent channel assigned: the legacy fallback
      ddb.on(PutCommand).resolves({});

      // Act
      const res = await call(postJson("/sessions", JSON.stringify({ showId: "show-1", episodeId: "ep-7" })));

      // Assess
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        hostUserId: HOST,
        showId: "show-1",
        episodeId: "ep-7",
        streaming: { status: "idle", isLive: false, attempt: 0 },
      });
      expect(res.raw).not.toContain(STREAM_KEY);
      const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
      expect(put?.TableName).toBe(TABLE);
      expect(put?.ConditionExpression).toBe("attribute_not_exists(pk)");
      expect(JSON.stringify(put)).not.toContain(STREAM_KEY);
      expect(ivs.commandCalls(DeleteChannelCommand)).toHaveLength(0);
    });
  });

  describe("GET /sessions/{id}", () => {
    const foreign = makeSession({ hostUserId: "someone-else" });

    it("hides another host's session with 404", async () => {
      givenSession(foreign);

      const res = await call(request("GET", "/sessions/s1"));

      expect(res.status).toBe(404);
      expect(res.raw).not.toContain("someone-else");
    });

    it.each<[string, Claims]>([
      ["a groups array", { sub: "admin-user", groups: ["admin"] }],
      ["API Gateway's flattened cognito:groups", { sub: "admin-user", "cognito:groups": "[admin]" }],
      ["a flattened list of several groups", { sub: "admin-user", "cognito:groups": "[editors admin]" }],
    ])("shows it to an admin with %s", async (_how, claims) => {
      givenSession(foreign);

      const res = await call(request("GET", "/sessions/s1", { claims }));

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ sessionId: "s1", hostUserId: "someone-else" });
    });

    it("does not make a caller admin for a group merely containing 'admin'", async () => {
      givenSession(foreign);

      const res = await call(
        request("GET", "/sessions/s1", { claims: { sub: "u2", "cognito:groups": "[admins]" } }),
      );

      expect(res.status).toBe(404);
    });
  });

  describe("POST /sessions/{id}/streaming/start", () => {
    it("answers 200 with the playback URL when already live, starting nothing", async () => {
      givenSession(
        makeSession({
          streaming: {
            status: "live",
            isLive: true,
            attempt: 1,
            executionArn: executionArnOf(GO_LIVE_SM, "go-live-s1-1"),
            playbackUrl: "https://abc123.playback.live-video.net/prog1.m3u8",
          },
        }),
      );

      const res = await call(request("POST", "/sessions/s1/streaming/start"));

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: "live",
        playbackUrl: "https://abc123.playback.live-video.net/prog1.m3u8",
      });
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it("starts go-live-<id>-<n> past the closed attempt, with the session and n as input (202)", async () => {
      // Prepare: attempt 2 has closed; its name stays reserved.
      givenSession(makeSession({ streaming: { status: "idle", isLive: false, attempt: 2 } }));
      const arn = executionArnOf(GO_LIVE_SM, "go-live-s1-3");
      sfn
        .on(StartExecutionCommand)
        .rejectsOnce(awsError("ExecutionAlreadyExists", "Execution already exists", 400))
        .resolves({ executionArn: arn, startDate: new Date("2025-01-01T00:00:00Z") });

      // Act
      const res = await call(request("POST", "/sessions/s1/streaming/start"));

      // Assess
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        status: "starting",
        executionArn: arn,
        executionName: "go-live-s1-3",
      });
      const starts = sfn.commandCalls(StartExecutionCommand);
      expect(starts.map((c) => c.args[0].input.name)).toEqual(["go-live-s1-2", "go-live-s1-3"]);
      const startInput = starts[1]?.args[0].input;
      expect(startInput?.stateMachineArn).toBe(GO_LIVE_SM);
      expect(startInput?.name).toBe("go-live-s1-3");
      expect(JSON.parse(startInput?.input ?? "null")).toEqual({ sessionId: "s1", attempt: 3 });
    });

    it("moves on to the next number while names are taken by closed executions", async () => {
      givenSession(makeSession({ streaming: { status: "error", isLive: false, attempt: 2 } }));
      sfn
        .on(StartExecutionCommand)
        .rejectsOnce(awsError("ExecutionAlreadyExists", "Execution already exists", 400))
        .rejectsOnce(awsError("ExecutionAlreadyExists", "Execution already exists", 400))
        .resolves({ executionArn: executionArnOf(GO_LIVE_SM, "go-live-s1-4"), startDate: new Date() });

      const res = await call(request("POST", "/sessions/s1/streaming/start"));

      expect(res.status).toBe(202);
      const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
      expect(starts.map((s) => s.name)).toEqual(["go-live-s1-2", "go-live-s1-3", "go-live-s1-4"]);
      expect(JSON.parse(starts[2]?.input ?? "null")).toEqual({ sessionId: "s1", attempt: 4 });
      expect(res.body).toMatchObject({ executionName: "go-live-s1-4" });
    });
  });

  describe("POST /sessions/{id}/streaming/stop", () => {
    it("answers 409 while the session is starting", async () => {
      givenSession(
        makeSession({
          streaming: {
            status: "starting",
            attempt: 1,
            executionArn: executionArnOf(GO_LIVE_SM, "go-live-s1-1"),
          },
        }),
      );
      sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });

      const res = await call(request("POST", "/sessions/s1/streaming/stop"));

      expect(res.status).toBe(409);
      expect(errorOf(res.body).code).toBe("conflict");
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it("answers 200 when the session is already idle, starting nothing", async () => {
      givenSession(makeSession());

      const res = await call(request("POST", "/sessions/s1/streaming/stop"));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sessionId: "s1", status: "idle" });
      expect(sfn.calls()).toHaveLength(0);
    });

    it("starts stop-streaming from the session's counter, past its closed name, and records the number (202)", async () => {
      givenSession({
        ...makeSession({ streaming: { status: "live", isLive: true, attempt: 2 } }),
        executionCounters: { "go-live": 2, "stop-streaming": 1 },
      });
      sfn
        .on(StartExecutionCommand)
        .rejectsOnce(awsError("ExecutionAlreadyExists", "Execution already exists", 400))
        .resolves({ executionArn: executionArnOf(STOP_SM, "stop-streaming-s1-2"), startDate: new Date() });

      const res = await call(request("POST", "/sessions/s1/streaming/stop"));

      expect(res.status).toBe(202);
      const startInput = sfn.commandCalls(StartExecutionCommand)[1]?.args[0].input;
      expect(startInput?.stateMachineArn).toBe(STOP_SM);
      expect(startInput?.name).toBe("stop-streaming-s1-2");
      const [counter] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(counter?.set).toMatchObject({ executionCounters: { "go-live": 2, "stop-streaming": 2 } });
    });

    it("returns the running execution to a repeated request: the same name and input start nothing new", async () => {
      // The stop was started (counter 1) but has not claimed the session yet.
      givenSession({
        ...makeSession({ streaming: { status: "live", isLive: true, attempt: 1 } }),
        executionCounters: { "stop-streaming": 1 },
      });
      // Step Functions answers a running name with the same input with that execution.
      sfn
        .on(StartExecutionCommand)
        .resolves({ executionArn: executionArnOf(STOP_SM, "stop-streaming-s1-1"), startDate: new Date() });

      const res = await call(request("POST", "/sessions/s1/streaming/stop"));

      expect(res.body).toMatchObject({ executionName: "stop-streaming-s1-1" });
      expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([
        "stop-streaming-s1-1",
      ]);
    });

    it("never runs out of execution names: 30 closed ones in a row are skipped, not answered with 500", async () => {
      // Names of closed executions stay reserved for 90 days (ExecutionAlreadyExists).
      givenSession(makeSession({ streaming: { status: "live", isLive: true, attempt: 1 } }));
      const taken = Object.assign(new Error("taken"), { name: "ExecutionAlreadyExists" });
      const start = sfn.on(StartExecutionCommand);
      for (let i = 0; i < 30; i++) start.rejectsOnce(taken);
      start.resolves({
        executionArn: executionArnOf(STOP_SM, "stop-streaming-s1-31"),
        startDate: new Date(),
      });

      const res = await call(request("POST", "/sessions/s1/streaming/stop"));

      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ executionName: "stop-streaming-s1-31" });
      const [counter] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(counter?.set).toMatchObject({ executionCounters: { "stop-streaming": 31 } });
    });
  });

  describe("GET /executions/{executionArn}", () => {
    const path = (arn: string) => `/executions/${encodeURIComponent(arn)}`;

    it("answers 404 for an execution of a state machine that is not castflow's", async () => {
      const foreignArn = "arn:aws:states:us-east-1:000000000000:execution:someone-elses-machine:run-1";

      const res = await call(request("GET", path(foreignArn)));

      expect(res.status).toBe(404);
      expect(sfn.calls()).toHaveLength(0);
    });

    it("does not accept a state machine whose name only starts with castflow's", async () => {
      const lookalike = "arn:aws:states:us-east-1:000000000000:execution:castflow-dev-go-live-evil:run-1";

      const res = await call(request("GET", path(lookalike)));

      expect(res.status).toBe(404);
      expect(sfn.calls()).toHaveLength(0);
    });

    it.each([
      ["not an ARN", "/executions/not-an-arn"],
      ["a broken percent-encoding", "/executions/arn%3Aaws%E0%A4%A"],
      ["a state machine ARN", path(GO_LIVE_SM)],
    ])("answers 400 for %s", async (_what, p) => {
      const res = await call(request("GET", p));

      expect(res.status).toBe(400);
      expect(errorOf(res.body).message).toContain("executionArn");
      expect(sfn.calls()).toHaveLength(0);
    });

    it("shows the caller's own execution with its current state and without its input", async () => {
      const arn = executionArnOf(GO_LIVE_SM, "go-live-s1-1");
      givenSession(makeSession());
      sfn.on(DescribeExecutionCommand, { executionArn: arn }).resolves({
        executionArn: arn,
        name: "go-live-s1-1",
        status: "RUNNING",
        startDate: new Date("2025-01-01T00:00:00Z"),
        input: JSON.stringify({ sessionId: "s1", attempt: 1 }),
      });
      // Newest first, as asked for: a poll that ended in the Wait, the Parallel still open.
      sfn.on(GetExecutionHistoryCommand).resolves({
        events: [
          {
            id: 6,
            timestamp: new Date(),
            type: "WaitStateEntered",
            stateEnteredEventDetails: { name: "Wait For Channel Running: Pause" },
          },
          {
            id: 5,
            timestamp: new Date(),
            type: "TaskStateExited",
            stateExitedEventDetails: { name: "Wait For Channel Running: Poll" },
          },
          {
            id: 4,
            timestamp: new Date(),
            type: "TaskStateEntered",
            stateEnteredEventDetails: { name: "Wait For Channel Running: Poll" },
          },
          {
            id: 3,
            timestamp: new Date(),
            type: "ParallelStateEntered",
            stateEnteredEventDetails: { name: "Bring Channel Up" },
          },
        ],
        nextToken: "older-events",
      });

      const res = await call(request("GET", path(arn)));

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        sessionId: "s1",
        status: "RUNNING",
        currentState: "Wait For Channel Running: Pause",
      });
      expect(res.body).not.toHaveProperty("input");
      // One page, newest first: never the whole history on a poll.
      const reads = sfn.commandCalls(GetExecutionHistoryCommand);
      expect(reads).toHaveLength(1);
      expect(reads[0]?.args[0].input).toMatchObject({ reverseOrder: true, maxResults: 100 });
    });

    it("answers 404 for an execution of another host's session", async () => {
      const arn = executionArnOf(GO_LIVE_SM, "go-live-s1-1");
      givenSession(makeSession({ hostUserId: "someone-else" }));
      sfn.on(DescribeExecutionCommand).resolves({
        status: "SUCCEEDED",
        name: "go-live-s1-1",
        input: JSON.stringify({ sessionId: "s1", attempt: 1 }),
      });

      const res = await call(request("GET", path(arn)));

      expect(res.status).toBe(404);
    });
  });

  it("answers 500 with a generic body, and no stack or SDK message, on an unexpected SDK error", async () => {
    // Prepare
    const sdkError = awsError("ValidationException", "DynamoDB exploded near partition 7", 400);
    ddb.on(GetCommand).rejects(sdkError);

    // Act
    const res = await call(request("GET", "/sessions/s1"));

    // Assess
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: "internal", message: expect.any(String) } });
    expect(res.raw).not.toContain("DynamoDB exploded");
    expect(res.raw).not.toMatch(/\bat .*\.ts:\d+/);
    expect(res.raw).not.toContain("ValidationException");
  });

  it("answers 503 with retry-after, and no SDK message, when AWS still throttles or fails after the SDK's retries", async () => {
    for (const [name, status] of [
      ["InternalServerError", 500],
      ["ProvisionedThroughputExceededException", 400],
      ["ThrottlingException", 400],
    ] as const) {
      ddb.reset();
      ddb.on(GetCommand).rejects(awsError(name, "DynamoDB exploded near partition 7", status));
      const res = await call(request("GET", "/sessions/s1"));
      expect(res.status, name).toBe(503);
      expect(res.headers?.["retry-after"]).toBe("5");
      expect(res.error?.code).toBe("unavailable");
      expect(res.raw).not.toContain("DynamoDB exploded");
    }
  });
});
