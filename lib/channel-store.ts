import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, paginateQuery, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  CHANNEL_PARTITION,
  type ChannelState,
  channelKey,
  HostAssignment,
  hostKey,
  PersistentChannel,
} from "./channel.ts";
import { dynamo } from "./clients.ts";
import { config } from "./config.ts";
import { nowIso } from "./session.ts";

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
 * Moves a channel between registry states under a condition; returns the new record, or
 * undefined when the channel is missing or the condition does not hold.
 */
export async function updateChannel(
  channelId: string,
  update: {
    set: Record<string, unknown>;
    remove?: string[];
    condition?: string;
    values?: Record<string, unknown>;
  },
): Promise<PersistentChannel | undefined> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ...update.values };
  const sets = Object.entries({ ...update.set, updatedAt: nowIso() }).map(([k, v], i) => {
    names[`#s${i}`] = k;
    values[`:s${i}`] = v;
    return `#s${i} = :s${i}`;
  });
  const removes = (update.remove ?? []).map((k, i) => {
    names[`#r${i}`] = k;
    return `#r${i}`;
  });
  for (const n of update.condition?.match(/#[A-Za-z]+/g) ?? []) names[n] = n.slice(1);
  try {
    const res = await dynamo().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: channelKey(channelId),
        UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
        ConditionExpression: ["attribute_exists(pk)", update.condition].filter(Boolean).join(" AND "),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    return PersistentChannel.parse(strip(res.Attributes ?? {}));
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/**
 * IDLE -> LIVE for `sessionId`, atomically: of two concurrent claims exactly one succeeds. Only
 * the host the channel is assigned to can claim it.
 */
export const claimChannel = (channelId: string, sessionId: string, hostUserId: string) =>
  updateChannel(channelId, {
    set: { state: "LIVE" satisfies ChannelState, currentSessionId: sessionId },
    condition: "#state = :idle AND #hostUserId = :host",
    values: { ":idle": "IDLE", ":host": hostUserId },
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
    condition: "#state = :live AND #currentSessionId = :stale AND #hostUserId = :host",
    values: { ":live": "LIVE", ":stale": staleHolder, ":host": hostUserId },
  });

/** LIVE -> IDLE, only if `sessionId` still holds the channel. */
export const releaseChannel = (channelId: string, sessionId: string) =>
  updateChannel(channelId, {
    set: { state: "IDLE" satisfies ChannelState },
    remove: ["currentSessionId"],
    condition: "#state = :live AND #currentSessionId = :session",
    values: { ":live": "LIVE", ":session": sessionId },
  });
