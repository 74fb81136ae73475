import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { CreateChannelCommand, DeleteChannelCommand, IvsClient } from "@aws-sdk/client-ivs";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { channelKey, hostKey } from "#lib/channels/model.ts";
import { sessionKey } from "#lib/sessions/model.ts";
import { decodeUpdates, makeSession, useTestEnv } from "#test/tasks/helpers.ts";
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
const ivs = mockClient(IvsClient);

const admin = { claims: ADMIN_CLAIMS };

describe("API: persistent channel registry", () => {
  beforeEach(() => {
    ddb.reset();
    ivs.reset();
    useTestEnv();
  });

  describe("admin routes", () => {
    it.each<[string, string, unknown]>([
      ["POST", "/admin/channels", { name: "host-b" }],
      ["GET", "/admin/channels", undefined],
      ["GET", `/admin/channels/${CHANNEL_ID}`, undefined],
      ["PUT", `/admin/channels/${CHANNEL_ID}/state`, { newState: "IDLE" }],
      ["PUT", `/admin/hosts/${HOST}/channel`, { channelId: CHANNEL_ID }],
      ["DELETE", `/admin/channels/${CHANNEL_ID}`, undefined],
    ])("%s %s answers 403 to a non-admin and touches nothing", async (method, path, body) => {
      const res = await call(request(method, path, { body, claims: { sub: HOST, groups: ["hosts"] } }));

      expect(res.status).toBe(403);
      expect(res.error?.code).toBe("forbidden");
      expect(ddb.calls()).toHaveLength(0);
      expect(ivs.calls()).toHaveLength(0);
    });
  });

  describe("POST /admin/channels", () => {
    it.each([
      ["a space", "host b"],
      ["a slash", "host/b"],
      ["a dot", "host.b"],
    ])("refuses a name with %s (not an IVS name) with 400 naming the field", async (_what, name) => {
      const res = await call(request("POST", "/admin/channels", { body: { name }, ...admin }));

      expect(res.status).toBe(400);
      expect(res.error?.message).toContain("name");
      expect(res.error?.details).toEqual({ fields: [expect.objectContaining({ field: "name" })] });
      expect(ivs.calls()).toHaveLength(0);
    });

    it("refuses an unknown field with 400 naming it", async () => {
      const res = await call(
        request("POST", "/admin/channels", { body: { name: "host-b", state: "LIVE" }, ...admin }),
      );

      expect(res.status).toBe(400);
      expect(res.error?.message).toContain("state");
      expect(ivs.calls()).toHaveLength(0);
      expect(ddb.calls()).toHaveLength(0);
    });

    it("creates a tagged persistent IVS channel and its IDLE record (201)", async () => {
      // Prepare
      const arn = "arn:aws:ivs:us-east-1:000000000000:channel/newch1";
      ivs.on(CreateChannelCommand).resolves({
        channel: {
          arn,
          ingestEndpoint: "newch1.global-contribute.live-video.net",
          playbackUrl: "https://newch1.playback.live-video.net/newch1.m3u8",
        },
        streamKey: { arn: "arn:aws:ivs:us-east-1:000000000000:stream-key/k1", value: "sk_secret" },
      });
      ddb.on(PutCommand).resolves({});

      // Act
      const res = await call(request("POST", "/admin/channels", { body: { name: "host-b" }, ...admin }));

      // Assess
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ channelId: "newch1", channelArn: arn, name: "host-b", state: "IDLE" });
      const create = ivs.commandCalls(CreateChannelCommand)[0]?.args[0].input;
      expect(create?.name).toBe("castflow-persistent-host-b");
      expect(create?.tags).toMatchObject({
        "castflow:managed-by": "castflow",
        "castflow:role": "persistent",
      });
      const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
      expect(put?.Item).toMatchObject({ ...channelKey("newch1"), state: "IDLE", totalBroadcasts: 0 });
      expect(put?.ConditionExpression).toBe("attribute_not_exists(pk)");
      expect(JSON.stringify(res.body)).not.toContain("sk_secret");
    });
  });

  describe("GET /admin/channels", () => {
    it("lists the registry with one query of the channel partition", async () => {
      ddb.on(QueryCommand).resolves({ Items: [channelItem(makeChannel())] });

      const res = await call(request("GET", "/admin/channels", admin));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ channels: [makeChannel()] });
      expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeValues).toEqual({
        ":pk": "CHANNEL",
      });
    });
  });

  describe("PUT /admin/channels/{id}/state", () => {
    beforeEach(() => {
      ddb.on(GetCommand, { Key: channelKey(CHANNEL_ID) }).resolves({
        Item: channelItem(makeChannel({ state: "LIVE", currentSessionId: "s-old" })),
      });
    });

    it("refuses newState LIVE without a sessionId with 400 naming sessionId", async () => {
      const res = await call(
        request("PUT", `/admin/channels/${CHANNEL_ID}/state`, { body: { newState: "LIVE" }, ...admin }),
      );

      expect(res.status).toBe(400);
      expect(res.error?.message).toContain("sessionId");
      expect(res.error?.details).toEqual({ fields: [expect.objectContaining({ field: "sessionId" })] });
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    it('accepts the seeds\' recovery call {"newState":"IDLE","sessionId":null} as "no session given"', async () => {
      holder("ended");
      ddb.on(UpdateCommand).resolves({ Attributes: channelItem(makeChannel({ state: "IDLE" })) });

      const res = await call(
        request("PUT", `/admin/channels/${CHANNEL_ID}/state`, {
          body: { newState: "IDLE", sessionId: null },
          ...admin,
        }),
      );

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ state: "IDLE" });
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    });

    it("refuses an unknown state with 400 naming newState", async () => {
      const res = await call(
        request("PUT", `/admin/channels/${CHANNEL_ID}/state`, { body: { newState: "BROKEN" }, ...admin }),
      );

      expect(res.status).toBe(400);
      expect(res.error?.message).toContain("newState");
      expect(ddb.calls()).toHaveLength(0);
    });

    const holder = (status: "active" | "ended") =>
      ddb.on(GetCommand, { Key: sessionKey("s-old") }).resolves({
        Item: { ...sessionKey("s-old"), ...makeSession({ sessionId: "s-old" }), status },
      });

    it("refuses to free a channel its session still holds while active, unless forced", async () => {
      holder("active");
      ddb.on(UpdateCommand).resolves({ Attributes: channelItem(makeChannel({ state: "IDLE" })) });
      const path = `/admin/channels/${CHANNEL_ID}/state`;

      const refused = await call(request("PUT", path, { body: { newState: "IDLE" }, ...admin }));
      expect(refused.status).toBe(409);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);

      const forced = await call(request("PUT", path, { body: { newState: "IDLE", force: true }, ...admin }));
      expect(forced.status).toBe(200);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    });

    it("frees a stuck channel only while the given session still holds it", async () => {
      // Prepare
      holder("ended");
      ddb.on(UpdateCommand).resolves({ Attributes: channelItem(makeChannel({ state: "IDLE" })) });

      // Act
      const res = await call(
        request("PUT", `/admin/channels/${CHANNEL_ID}/state`, {
          body: { newState: "IDLE", sessionId: "s-old" },
          ...admin,
        }),
      );

      // Assess
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ channelId: CHANNEL_ID, state: "IDLE" });
      const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(update?.set).toMatchObject({ state: "IDLE" });
      expect(update?.remove).toEqual(["currentSessionId"]);
      expect(update?.condition).toContain('currentSessionId = "s-old"');

      const wrongSession = await call(
        request("PUT", `/admin/channels/${CHANNEL_ID}/state`, {
          body: { newState: "IDLE", sessionId: "another" },
          ...admin,
        }),
      );
      expect(wrongSession.status).toBe(409);
    });
  });

  describe("DELETE /admin/channels/{id}", () => {
    it("answers 409 for a LIVE channel and never deletes the IVS channel", async () => {
      ddb.on(GetCommand, { Key: channelKey(CHANNEL_ID) }).resolves({
        Item: channelItem(makeChannel({ state: "LIVE", currentSessionId: "s1" })),
      });

      const res = await call(request("DELETE", `/admin/channels/${CHANNEL_ID}`, admin));

      expect(res.status).toBe(409);
      expect(res.error?.details).toEqual({ currentSessionId: "s1" });
      expect(ivs.commandCalls(DeleteChannelCommand)).toHaveLength(0);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
    });

    it("answers 409 when the channel went LIVE between the read and the parking write", async () => {
      ddb.on(GetCommand, { Key: channelKey(CHANNEL_ID) }).resolves({ Item: channelItem(makeChannel()) });
      ddb
        .on(UpdateCommand)
        .rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));

      const res = await call(request("DELETE", `/admin/channels/${CHANNEL_ID}`, admin));

      expect(res.status).toBe(409);
      expect(ivs.commandCalls(DeleteChannelCommand)).toHaveLength(0);
      expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
    });

    it("parks an idle channel OFFLINE, then deletes the IVS channel, its record and assignment", async () => {
      // Prepare
      const channel = makeChannel();
      ddb.on(GetCommand, { Key: channelKey(CHANNEL_ID) }).resolves({ Item: channelItem(channel) });
      ddb.on(GetCommand, { Key: hostKey(HOST) }).resolves({ Item: assignmentItem(HOST, CHANNEL_ID) });
      ddb.on(UpdateCommand).resolves({ Attributes: channelItem({ ...channel, state: "OFFLINE" }) });
      ddb.on(DeleteCommand).resolves({});
      ivs.on(DeleteChannelCommand).resolves({});

      // Act
      const res = await call(request("DELETE", `/admin/channels/${CHANNEL_ID}`, admin));

      // Assess
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ channelId: CHANNEL_ID, deleted: true });
      const [park] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(park?.set).toMatchObject({ state: "OFFLINE" });
      expect(park?.condition).toContain('state <> "LIVE"');
      expect(ivs.commandCalls(DeleteChannelCommand)[0]?.args[0].input).toEqual({ arn: channel.channelArn });
      const deletedKeys = ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key);
      expect(deletedKeys).toEqual([channelKey(CHANNEL_ID), hostKey(HOST)]);
    });
  });

  describe("GET /hosts/{h}/channel", () => {
    it("answers 404 to a caller asking for another host's channel", async () => {
      ddb.on(GetCommand).resolves({ Item: assignmentItem("someone-else", CHANNEL_ID) });

      const res = await call(request("GET", "/hosts/someone-else/channel"));

      expect(res.status).toBe(404);
      expect(ddb.calls()).toHaveLength(0);
    });

    it("shows a host its own assignment and channel", async () => {
      ddb.on(GetCommand, { Key: hostKey(HOST) }).resolves({ Item: assignmentItem(HOST, CHANNEL_ID) });
      ddb.on(GetCommand, { Key: channelKey(CHANNEL_ID) }).resolves({ Item: channelItem(makeChannel()) });

      const res = await call(request("GET", `/hosts/${HOST}/channel`));

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ hostUserId: HOST, channelId: CHANNEL_ID, channel: { state: "IDLE" } });
    });
  });
});
