import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  CreateChannelCommand,
  DeleteChannelCommand,
  GetChannelCommand,
  IvsClient,
  ListChannelsCommand,
} from "@aws-sdk/client-ivs";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { channelKey, hostKey } from "#lib/channels/model.ts";
import { resetConfig } from "#lib/config.ts";
import type { CleanupResult, Session } from "#lib/sessions/model.ts";
import {
  awsError,
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  makeSession,
  useTestEnv,
} from "#test/tasks/helpers.ts";
import { assignmentItem, CHANNEL_ID, call, channelItem, HOST, makeChannel, request } from "./helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const ivs = mockClient(IvsClient);

const END_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-end-session";
const RELAY_ARN = "arn:aws:ivs:us-east-1:000000000000:channel/relay1";
const relayChannel = {
  arn: RELAY_ARN,
  ingestEndpoint: "relay1.global-contribute.live-video.net",
  playbackUrl: "https://relay1.playback.live-video.net/relay1.m3u8",
};
const createBody = { body: { showId: "show-1" } };

function givenSession(session: Session): void {
  ddb
    .on(GetCommand, { Key: { pk: `SESSION#${session.sessionId}`, sk: "SESSION" } })
    .resolves({ Item: item(session) });
}

function givenAssignedChannel(state: "IDLE" | "LIVE" | "OFFLINE" | "missing"): void {
  ddb.on(GetCommand, { Key: hostKey(HOST) }).resolves({ Item: assignmentItem(HOST, CHANNEL_ID) });
  ddb
    .on(GetCommand, { Key: channelKey(CHANNEL_ID) })
    .resolves(state === "missing" ? {} : { Item: channelItem(makeChannel({ state })) });
}

const ccf = () => new ConditionalCheckFailedException({ message: "failed", $metadata: {} });

describe("API: sessions", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    ivs.reset();
    useTestEnv();
  });

  describe("POST /sessions on a host's persistent channel", () => {
    it("answers 500 with the configuration message when the assigned channel record is missing", async () => {
      givenAssignedChannel("missing");

      const res = await call(request("POST", "/sessions", createBody));

      expect(res.status).toBe(500);
      expect(res.error?.message).toBe("Channel configuration error. Please contact support.");
      expect(ivs.calls()).toHaveLength(0);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    it("answers 503 with the unavailable message for an OFFLINE channel", async () => {
      givenAssignedChannel("OFFLINE");

      const res = await call(request("POST", "/sessions", createBody));

      expect(res.status).toBe(503);
      expect(res.error?.message).toBe("Channel is temporarily unavailable. Please contact support.");
      expect(ivs.calls()).toHaveLength(0);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    it("answers 409 with the in-use message when the claim is lost, creating no relay", async () => {
      givenAssignedChannel("IDLE");
      ddb.on(UpdateCommand).rejects(ccf());

      const res = await call(request("POST", "/sessions", createBody));

      expect(res.status).toBe(409);
      expect(res.error?.message).toBe("Channel is currently in use. Please try again later.");
      const [claim] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(claim?.set).toMatchObject({ state: "LIVE" });
      expect(claim?.condition).toContain('state = "IDLE"');
      expect(ivs.calls()).toHaveLength(0);
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    });

    it("answers 403 with the no-channel message without an assignment when legacy channels are off", async () => {
      process.env.LEGACY_PROGRAM_CHANNELS = "false";
      resetConfig();
      ddb.on(GetCommand).resolves({});

      const res = await call(request("POST", "/sessions", createBody));

      expect(res.status).toBe(403);
      expect(res.error?.message).toBe("No channel assigned to your account. Please contact support.");
      expect(ivs.calls()).toHaveLength(0);
    });

    it("claims the channel, creates the relay and stores the session (201)", async () => {
      // Prepare
      givenAssignedChannel("IDLE");
      ddb.on(UpdateCommand).resolves({ Attributes: channelItem(makeChannel({ state: "LIVE" })) });
      ddb.on(PutCommand).resolves({});
      ivs.on(CreateChannelCommand).resolves({ channel: relayChannel });

      // Act
      const res = await call(request("POST", "/sessions", createBody));

      // Assess
      expect(res.status).toBe(201);
      const sessionId = res.body.sessionId as string;
      expect(res.body).toMatchObject({
        status: "active",
        ivs: { persistentChannelId: CHANNEL_ID, relayChannelArn: RELAY_ARN },
      });
      const [claim] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(claim?.set).toMatchObject({ state: "LIVE", currentSessionId: sessionId });
      const create = ivs.commandCalls(CreateChannelCommand)[0]?.args[0].input;
      expect(create?.name).toBe(`castflow-relay-${sessionId}`);
      expect(create?.tags).toMatchObject({ "castflow:role": "relay", "castflow:session-id": sessionId });
      expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    });

    it("releases the claim when the relay cannot be created, answering 500 internal", async () => {
      // Prepare
      givenAssignedChannel("IDLE");
      ddb.on(UpdateCommand).resolves({ Attributes: channelItem(makeChannel({ state: "LIVE" })) });
      ivs.on(CreateChannelCommand).rejects(awsError("ValidationException", "bad channel", 400));

      // Act
      const res = await call(request("POST", "/sessions", createBody));

      // Assess
      expect(res.status).toBe(500);
      expect(res.error?.code).toBe("internal");
      expect(ivs.commandCalls(CreateChannelCommand)).toHaveLength(1);
      const [claim, release] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      const sessionId = claim?.set.currentSessionId;
      expect(typeof sessionId).toBe("string");
      expect(release?.set).toMatchObject({ state: "IDLE" });
      expect(release?.remove).toEqual(["currentSessionId"]);
      expect(release?.condition).toContain(`currentSessionId = ${JSON.stringify(sessionId)}`);
      expect(release?.condition).toContain('state = "LIVE"');
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
      expect(ivs.commandCalls(DeleteChannelCommand)).toHaveLength(0);
    });
  });

  describe("IVS CreateChannel exactly once", () => {
    const PROGRAM = {
      arn: "arn:aws:ivs:us-east-1:000000000000:channel/prog9",
      ingestEndpoint: "prog9.global-contribute.live-video.net",
      playbackUrl: "https://prog9.playback.live-video.net/prog9.m3u8",
    };
    const firstCreate = () => ivs.commandCalls(CreateChannelCommand)[0]?.args[0].input;

    it("adopts the channel whose create answer was lost (same name and request tag): 201, one create", async () => {
      // Prepare: legacy session (no assignment); IVS created the channel but the answer was lost
      ddb.on(GetCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      ivs
        .on(CreateChannelCommand)
        .rejectsOnce(awsError("InternalServerException", "lost", 500))
        .resolves({ channel: { ...PROGRAM, arn: "arn:aws:ivs:us-east-1:000000000000:channel/dup" } });
      ivs.on(ListChannelsCommand).callsFake(() => ({
        channels: [
          { arn: "arn:aws:ivs:us-east-1:000000000000:channel/other", name: firstCreate()?.name, tags: {} },
          { arn: PROGRAM.arn, name: firstCreate()?.name, tags: firstCreate()?.tags },
        ],
      }));
      ivs.on(GetChannelCommand, { arn: PROGRAM.arn }).resolves({ channel: PROGRAM });

      // Act
      const res = await call(request("POST", "/sessions", createBody));

      // Assess
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ ivs: { programChannelArn: PROGRAM.arn } });
      expect(ivs.commandCalls(CreateChannelCommand)).toHaveLength(1);
      const requestId = firstCreate()?.tags?.["castflow:request-id"];
      expect(requestId).toEqual(expect.any(String));
      expect(ivs.commandCalls(ListChannelsCommand)[0]?.args[0].input.filterByName).toBe(firstCreate()?.name);
      expect(ivs.commandCalls(GetChannelCommand).map((c) => c.args[0].input.arn)).toEqual([PROGRAM.arn]);
    });

    it("creates again, with the same request tag, when no channel of this request exists", async () => {
      ddb.on(GetCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      ivs
        .on(CreateChannelCommand)
        .rejectsOnce(awsError("InternalServerException", "failed", 500))
        .resolves({ channel: PROGRAM });
      ivs.on(ListChannelsCommand).callsFake(() => ({
        channels: [
          { arn: "arn:other", name: firstCreate()?.name, tags: { "castflow:request-id": "another" } },
        ],
      }));

      const res = await call(request("POST", "/sessions", createBody));

      expect(res.status).toBe(201);
      const creates = ivs.commandCalls(CreateChannelCommand).map((c) => c.args[0].input);
      expect(creates).toHaveLength(2);
      expect(creates[1]?.tags?.["castflow:request-id"]).toBe(creates[0]?.tags?.["castflow:request-id"]);
      expect(ivs.commandCalls(GetChannelCommand)).toHaveLength(0);
    });
  });

  describe("DELETE /sessions/{id}", () => {
    const ok: CleanupResult = { attempted: true, success: true, error: null };
    const endArn = (n: number) => executionArnOf(END_SM, `end-session-s1-${n}`);

    it("answers 200 for a session that ended with everything cleaned up, starting nothing", async () => {
      givenSession({
        ...makeSession(),
        status: "ended",
        end: {
          executionArn: endArn(1),
          endedAt: "2025-01-01T01:00:00.000Z",
          cleanupResults: { mediaLive: ok, relayChannel: ok, programChannel: ok },
        },
      });

      const res = await call(request("DELETE", "/sessions/s1"));

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        sessionId: "s1",
        status: "ended",
        endedAt: "2025-01-01T01:00:00.000Z",
      });
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it("starts end-session-<id>-1 with the session id as input (202)", async () => {
      // Prepare
      givenSession(makeSession());
      sfn.on(StartExecutionCommand).resolves({ executionArn: endArn(1), startDate: new Date() });

      // Act
      const res = await call(request("DELETE", "/sessions/s1"));

      // Assess
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        status: "ending",
        executionArn: endArn(1),
        executionName: "end-session-s1-1",
      });
      const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
      expect(starts).toHaveLength(1);
      expect(starts[0]?.stateMachineArn).toBe(END_SM);
      expect(starts[0]?.name).toBe("end-session-s1-1");
      expect(starts[0]?.input).toBe(JSON.stringify({ sessionId: "s1" }));
    });

    it("records the end request at once, so a start while the end waits for a go-live answers 409", async () => {
      // Prepare: a go-live is under way; the end will wait for it, so the record stays active.
      const starting = makeSession({
        streaming: {
          status: "starting",
          attempt: 1,
          executionArn: executionArnOf(GO_LIVE_SM, "go-live-s1-1"),
        },
      });
      givenSession(starting);
      sfn.on(StartExecutionCommand).resolves({ executionArn: endArn(1), startDate: new Date() });
      ddb.on(UpdateCommand).resolves({ Attributes: item(starting) });

      // Act
      const ended = await call(request("DELETE", "/sessions/s1"));

      // Assess: the request is on the record...
      expect(ended.status).toBe(202);
      const writes = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(writes.map((w) => w.set)).toContainEqual(
        expect.objectContaining({ endRequest: expect.objectContaining({ executionArn: endArn(1) }) }),
      );
      // ...and with it there, start and stop answer 409 while that end runs.
      givenSession({
        ...starting,
        endRequest: { executionArn: endArn(1), requestedAt: "2025-01-01T00:00:00Z" },
      });
      sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
      sfn.on(StartExecutionCommand).rejects(new Error("must not start"));
      const startAgain = await call(request("POST", "/sessions/s1/streaming/start"));
      expect(startAgain.status).toBe(409);
      expect(startAgain.error?.message).toContain("ending");
      const stop = await call(request("POST", "/sessions/s1/streaming/stop"));
      expect(stop.status).toBe(409);
    });

    it("ends again a session whose clean-up failed in part (202)", async () => {
      givenSession({
        ...makeSession(),
        status: "ended",
        end: {
          executionArn: endArn(1),
          cleanupResults: {
            mediaLive: ok,
            relayChannel: {
              attempted: true,
              success: false,
              error: { code: "IvsChannelBusy", message: "live" },
            },
          },
        },
      });
      sfn
        .on(StartExecutionCommand)
        .rejectsOnce(awsError("ExecutionAlreadyExists", "Execution already exists", 400))
        .resolves({ executionArn: endArn(2), startDate: new Date() });

      const res = await call(request("DELETE", "/sessions/s1"));

      expect(res.status).toBe(202);
      const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
      expect(names).toEqual(["end-session-s1-1", "end-session-s1-2"]);
      expect(res.body).toMatchObject({ executionName: "end-session-s1-2", executionArn: endArn(2) });
    });

    it("returns the end already RUNNING for an ending session, starting nothing (202)", async () => {
      givenSession({ ...makeSession(), status: "ending", end: { executionArn: endArn(3) } });
      sfn.on(DescribeExecutionCommand, { executionArn: endArn(3) }).resolves({ status: "RUNNING" });

      const res = await call(request("DELETE", "/sessions/s1"));

      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: "ending", executionArn: endArn(3) });
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it("answers 404 for another host's session", async () => {
      givenSession(makeSession({ hostUserId: "someone-else" }));

      const res = await call(request("DELETE", "/sessions/s1"));

      expect(res.status).toBe(404);
      expect(sfn.calls()).toHaveLength(0);
    });
  });

  describe("start and stop once the session is ending or ended", () => {
    it.each([
      ["start", "ending"],
      ["start", "ended"],
      ["stop", "ending"],
      ["stop", "ended"],
    ] as const)("POST streaming/%s on an %s session answers 409", async (action, status) => {
      givenSession({
        ...makeSession({
          streaming: { status: action === "stop" ? "live" : "idle", isLive: action === "stop" },
        }),
        status,
        end: { executionArn: executionArnOf(END_SM, "end-session-s1-1") },
      });

      const res = await call(request("POST", `/sessions/s1/streaming/${action}`));

      expect(res.status).toBe(409);
      expect(res.error?.details).toEqual({ status });
      expect(sfn.calls()).toHaveLength(0);
    });
  });
});
