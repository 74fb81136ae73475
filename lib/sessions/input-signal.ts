import type { ChannelAlert } from "@aws-sdk/client-medialive";
import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { dynamo } from "#lib/aws/clients.ts";
import { channelStateAndTags, listChannelAlerts } from "#lib/aws/medialive.ts";
import { config } from "#lib/config.ts";

/**
 * Whether a session's channel receives anything from the host's encoder. MediaLive has no state
 * for it: a RUNNING channel bills the same with or without input. What it has is a channel alert,
 * "RTMP Has No Audio/Video", SET on a pipeline while its RTMP input receives nothing and CLEARED
 * when content comes back (the marsha project stops a live 25 minutes after this alert, from its
 * alert events). A channel receives nothing when every one of its pipelines has the alert SET.
 *
 * The alert events only say where to look: `record-input-signal` reads the channel's alerts and
 * keeps one item per channel without input (partition `INPUT_SIGNAL`), which reconcile reads with
 * one Query, whatever the number of sessions; reconcile then reads the alerts of those channels
 * again before it calls one idle. The item is an observation, not a change of the session: the
 * session's record (its `updatedAt`, its version) is left alone.
 */
export const NO_INPUT_ALERT = "RTMP Has No Audio/Video";

const PARTITION = "INPUT_SIGNAL";
/** An observation nobody cleared (its events were lost) goes after this long. */
const RETENTION_DAYS = 7;

export const NoInput = z.object({
  channelId: z.string(),
  sessionId: z.string(),
  /** When the last of the channel's pipelines lost its input (ISO). */
  since: z.string(),
  observedAt: z.string(),
});
export type NoInput = z.infer<typeof NoInput>;

/** Pipelines of a channel class: SINGLE_PIPELINE runs one, STANDARD (MediaLive's default) two. */
export const pipelinesOf = (channelClass: string | undefined): readonly string[] =>
  channelClass === "SINGLE_PIPELINE" ? ["0"] : ["0", "1"];

/**
 * Since when the channel has received nothing, from its alerts: the latest SetTimestamp among
 * the SET no-input alerts once every pipeline has one; undefined while a pipeline receives.
 */
export function noInputSince(
  alerts: readonly ChannelAlert[],
  pipelines: readonly string[],
): Date | undefined {
  let since: Date | undefined;
  for (const pipeline of pipelines) {
    const set = alerts.filter(
      (a) =>
        a.AlertType === NO_INPUT_ALERT &&
        a.State === "SET" &&
        (a.PipelineId ?? "0") === pipeline &&
        a.SetTimestamp !== undefined,
    );
    if (set.length === 0) return undefined;
    const earliest = new Date(Math.min(...set.map((a) => a.SetTimestamp?.getTime() ?? 0)));
    if (!since || earliest > since) since = earliest;
  }
  return since;
}

/**
 * Since when a channel has received nothing, read from MediaLive now (its class and its SET
 * alerts); undefined while it receives, is not RUNNING, or is gone.
 */
export async function channelNoInputSince(
  channelId: string,
  signal?: AbortSignal,
): Promise<{ since: Date | undefined; tags: Record<string, string> }> {
  const { state, tags, channelClass } = await channelStateAndTags(channelId, signal);
  if (state !== "RUNNING") return { since: undefined, tags };
  const alerts = await listChannelAlerts(channelId, "SET", signal);
  return { since: noInputSince(alerts, pipelinesOf(channelClass)), tags };
}

const key = (channelId: string) => ({ pk: PARTITION, sk: channelId });

export async function putNoInput(item: NoInput): Promise<void> {
  const expiresAt = Math.floor(Date.parse(item.observedAt) / 1000) + RETENTION_DAYS * 86_400;
  await dynamo().send(
    new PutCommand({ TableName: config().TABLE_NAME, Item: { ...key(item.channelId), ...item, expiresAt } }),
  );
}

export async function clearNoInput(channelId: string): Promise<void> {
  await dynamo().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: key(channelId) }));
}

/** Every channel last seen without input (one Query; the partition holds only those). */
export async function listNoInput(): Promise<NoInput[]> {
  const out: NoInput[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await dynamo().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": PARTITION },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const { pk: _pk, sk: _sk, expiresAt: _e, ...doc } of res.Items ?? []) out.push(NoInput.parse(doc));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}
