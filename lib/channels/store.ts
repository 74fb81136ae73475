import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "#lib/aws/clients.ts";
import { type ConditionalUpdate, conditionalUpdate } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { nowIso } from "#lib/sessions/model.ts";
import {
  CHANNEL_PARTITION,
  type ChannelState,
  channelKey,
  HostAssignment,
  hostKey,
  PersistentChannel,
} from "./model.ts";

const strip = ({ pk: _pk, sk: _sk, ...doc }: Record<string, unknown>) => doc;

export async function getChannel(channelId: string): Promise<PersistentChannel | undefined> {
  const res = await dynamo().send(
    new GetCommand({ TableName: config().TABLE_NAME, Key: channelKey(channelId), ConsistentRead: true }),
  );
  return res.Item ? PersistentChannel.parse(strip(res.Item)) : undefined;
}

export async function listChannels(): Promise<PersistentChannel[]> {
  const out: PersistentChannel[] = [];
  const pages = paginateQuery(
    { client: dynamo() },
    {
      TableName: config().TABLE_NAME,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": CHANNEL_PARTITION },
    },
  );
  for await (const page of pages)
    for (const item of page.Items ?? []) out.push(PersistentChannel.parse(strip(item)));
  return out;
}

export async function putNewChannel(channel: PersistentChannel): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: config().TABLE_NAME,
      Item: { ...channelKey(channel.channelId), ...channel },
      ConditionExpression: "attribute_not_exists(pk)",
    }),
  );
}

export async function deleteChannelRecord(channelId: string): Promise<boolean> {
  try {
    await dynamo().send(
      new DeleteCommand({
        TableName: config().TABLE_NAME,
        Key: channelKey(channelId),
        ConditionExpression: "attribute_exists(pk) AND #state <> :live",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":live": "LIVE" },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

export async function getAssignment(hostUserId: string): Promise<HostAssignment | undefined> {
  const res = await dynamo().send(
    new GetCommand({ TableName: config().TABLE_NAME, Key: hostKey(hostUserId), ConsistentRead: true }),
  );
  return res.Item ? HostAssignment.parse(strip(res.Item)) : undefined;
}

/**
 * Writes a host's assignment. With `onlyIfUnassigned`, fails with ConditionalCheckFailedException
 * when the host has one already (two concurrent creates for one host cannot both assign).
 */
export async function putAssignment(
  hostUserId: string,
  channelId: string,
  options: { readonly onlyIfUnassigned?: boolean } = {},
): Promise<HostAssignment> {
  const assignment: HostAssignment = { hostUserId, channelId, assignedAt: nowIso() };
  await dynamo().send(
    new PutCommand({
      TableName: config().TABLE_NAME,
      Item: { ...hostKey(hostUserId), ...assignment },
      ...(options.onlyIfUnassigned ? { ConditionExpression: "attribute_not_exists(pk)" } : {}),
    }),
  );
  return assignment;
}

export async function deleteAssignment(hostUserId: string): Promise<void> {
  await dynamo().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: hostKey(hostUserId) }));
}

/**
 * Updates a channel record under a condition; returns the new record, or undefined when the
 * channel is missing or the condition does not hold.
 */
export async function updateChannel(
  channelId: string,
  update: ConditionalUpdate,
): Promise<PersistentChannel | undefined> {
  const item = await conditionalUpdate(channelKey(channelId), update);
  return item ? PersistentChannel.parse(item) : undefined;
}

/**
 * IDLE -> LIVE for `sessionId`, atomically: of two concurrent claims exactly one succeeds. Only
 * the host the channel is assigned to can claim it.
 */
export const claimChannel = (channelId: string, sessionId: string, hostUserId: string) =>
  updateChannel(channelId, {
    set: { state: "LIVE" satisfies ChannelState, currentSessionId: sessionId },
    condition: {
      expression: "#state = :idle AND #hostUserId = :host",
      values: { ":idle": "IDLE", ":host": hostUserId },
    },
  });

/** LIVE for `staleHolder` -> LIVE for `sessionId`, for a claim whose session is gone or ended. */
export const takeOverChannel = (
  channelId: string,
  sessionId: string,
  staleHolder: string,
  hostUserId: string,
) =>
  updateChannel(channelId, {
    set: { currentSessionId: sessionId },
    condition: {
      expression: "#state = :live AND #currentSessionId = :stale AND #hostUserId = :host",
      values: { ":live": "LIVE", ":stale": staleHolder, ":host": hostUserId },
    },
  });

/** LIVE -> IDLE, only if `sessionId` still holds the channel. */
export const releaseChannel = (channelId: string, sessionId: string) =>
  updateChannel(channelId, {
    set: { state: "IDLE" satisfies ChannelState },
    remove: ["currentSessionId"],
    condition: {
      expression: "#state = :live AND #currentSessionId = :session",
      values: { ":live": "LIVE", ":session": sessionId },
    },
  });
