import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "#lib/aws/clients.ts";
import { conditionalUpdate } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { type SharedChannelRecord, Source, sourceKey } from "./model.ts";
import { getSource } from "./store.ts";

/**
 * The shared-channel part of a source record (`Source.shared`), written by the API and by
 * shared-channel-apply. DynamoDB cannot set `shared.x` while `shared` is missing, so every writer
 * makes sure the map exists first (once per source, a conditional write that is a no-op after).
 */
export async function ensureSharedRecord(sourceId: string): Promise<void> {
  await conditionalUpdate(sourceKey(sourceId), {
    set: { shared: { outputs: {}, requested: 0 } },
    condition: { expression: "attribute_not_exists(#shared)" },
  });
}

/**
 * Counts one more change asked of the source's shared channel (an atomic add) and returns the
 * source as it is after it, with the apply execution that holds the channel, if any. An apply
 * finishes only if the count is still the one it planned with (see finish-shared-apply), so a
 * change counted here is either seen by the apply holding the channel now, or no apply holds it
 * and the caller starts one.
 */
export async function countSharedRequest(sourceId: string): Promise<Source | undefined> {
  await ensureSharedRecord(sourceId);
  try {
    const res = await dynamo().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: sourceKey(sourceId),
        UpdateExpression:
          "SET #shared.#requested = if_not_exists(#shared.#requested, :zero) + :one, #version = if_not_exists(#version, :zero) + :one, #updatedAt = :now",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: {
          "#shared": "shared",
          "#requested": "requested",
          "#version": "version",
          "#updatedAt": "updatedAt",
        },
        ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":now": new Date().toISOString() },
        ReturnValues: "ALL_NEW",
      }),
    );
    const { pk: _pk, sk: _sk, ...item } = res.Attributes ?? {};
    return Source.parse(item);
  } catch (err) {
    if (err instanceof Error && err.name === "ConditionalCheckFailedException") return undefined;
    throw err;
  }
}

/** Condition: this execution holds the source's shared channel. */
export const holdsSharedChannel = (executionArn: string) => ({
  expression: "#shared.#apply.#executionArn = :me",
  names: { "#shared": "shared", "#apply": "apply", "#executionArn": "executionArn" },
  values: { ":me": executionArn },
});

/** A source delivered in shared-channel mode (every rtmp-push source, and MediaConnect sources created `shared`). */
export const isSharedSource = (s: Pick<Source, "deliveryMode" | "protocol">) =>
  s.deliveryMode === "shared" || s.protocol === "rtmp-push";

/**
 * The source, while this execution holds its shared channel; `SharedChannelBusy` otherwise (another
 * apply took it over: this one must not touch the channel any more).
 */
export async function getHeldSource(sourceId: string, executionArn: string): Promise<HeldSource> {
  const source = await getSource(sourceId);
  if (!source?.shared || source.shared.apply?.executionArn !== executionArn)
    throw new TaskError(
      TaskErrors.SharedChannelBusy,
      `The shared channel of source ${sourceId} is no longer held by this execution`,
    );
  return source as HeldSource;
}
export type HeldSource = Source & { shared: SharedChannelRecord };
