import { DescribeChannelCommand, paginateListAlerts } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { failoverDestination } from "#api/destinations.ts";
import { ApiError } from "#api/http.ts";
import { medialive } from "#lib/aws/clients.ts";
import { atVersion } from "#lib/conditional-update.ts";
import { type Destination, DestinationTags } from "#lib/destinations/model.ts";
import { SHARED_ROLE } from "#lib/destinations/shared-plan.ts";
import { getDestination, listDestinations, updateDestination } from "#lib/destinations/store.ts";
import { isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { Tags } from "#lib/sessions/model.ts";
import { defineTask } from "#tasks/define.ts";

/**
 * MediaLive alert types that mean an output cannot reach its destination. "Failed to Create Output
 * File or Socket" is the one AWS documents in its alert event example (MediaLive UG, "JSON for an
 * alert event"); MediaLive publishes no complete list of alert types for RTMP outputs.
 */
export const OUTPUT_FAILURE_ALERTS = ["Failed to Create Output File or Socket"] as const;

/** A `MediaLive Channel Alert` event (EventBridge). The message is AWS's text: never logged or stored. */
const ChannelAlertEvent = z.looseObject({
  id: z.string(),
  "detail-type": z.literal("MediaLive Channel Alert"),
  source: z.literal("aws.medialive"),
  detail: z.looseObject({
    alarm_state: z.enum(["SET", "CLEARED"]),
    alarm_id: z.string().min(1),
    alert_type: z.string(),
    channel_arn: z.string().startsWith("arn:"),
    message: z.string().default(""),
  }),
});

export type AlertOutcome =
  | { outcome: "ignored"; reason: string }
  | { outcome: "failover-started"; destinationId: string; executionArn?: string }
  | { outcome: "recorded"; destinationId: string; what: "refused" | "reconnected" };

/** The channel's id, state and castflow tags, or undefined once MediaLive no longer knows it. */
async function describe(channelId: string, signal: AbortSignal) {
  try {
    const res = await medialive().send(new DescribeChannelCommand({ ChannelId: channelId }), {
      abortSignal: signal,
    });
    return { state: res.State ?? "UNKNOWN", tags: res.Tags ?? {} };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Is the alert still SET? A late or repeated event about an alert that cleared meanwhile changes nothing. */
async function stillSet(channelId: string, alarmId: string, signal: AbortSignal): Promise<boolean> {
  const pages = paginateListAlerts(
    { client: medialive() },
    { ChannelId: channelId, StateFilter: "SET" },
    {
      abortSignal: signal,
    },
  );
  for await (const page of pages) if (page.Alerts?.some((a) => a.Id === alarmId)) return true;
  return false;
}

const activeUrlOf = (d: Destination) => (d.activeUrl === "backup" ? d.backupRtmpUrl : d.rtmpUrl);

/**
 * The destinations an alert on this channel is about: a per-destination channel's one destination;
 * on a shared channel, the destinations of its source whose active URL the alert names.
 */
async function destinationsOf(tags: Record<string, string>, message: string): Promise<Destination[]> {
  const own = tags[DestinationTags.destinationId];
  if (own) {
    const d = await getDestination(own);
    return d ? [d] : [];
  }
  const sourceId = tags[DestinationTags.sourceId];
  if (!sourceId || tags[Tags.role] !== SHARED_ROLE.channel) return [];
  return (await listDestinations({ sourceId })).filter((d) => {
    const url = activeUrlOf(d);
    return (
      d.deliveryMode === "shared" && d.status !== "deleted" && url !== undefined && message.includes(url)
    );
  });
}

/** The active ingest refuses the stream: fail over to the backup when the destination allows it. */
async function onRefused(d: Destination): Promise<AlertOutcome> {
  const canFailOver = d.failoverEnabled && d.activeUrl === "primary" && d.backupRtmpUrl !== undefined;
  if (!canFailOver) {
    const message =
      d.activeUrl === "backup"
        ? "The backup ingest refuses the stream; fail back to the primary with POST /destinations/{id}/failover once it accepts"
        : "The platform's ingest refuses the stream (check the stream key and the platform's event)";
    await updateDestination(d.destinationId, {
      set: { "metrics.lastError": { code: "IngestRefused", message } },
    });
    return { outcome: "recorded", destinationId: d.destinationId, what: "refused" };
  }
  if (d.status !== "running")
    // Starting, restarting or being edited: Lambda retries the event once that settles.
    throw new TaskError(
      TaskErrors.DestinationBusy,
      `Destination ${d.destinationId} is ${d.status}; the failover waits until it runs`,
    );
  try {
    const answer = await failoverDestination(d, "backup");
    const executionArn = answer.body.executionArn;
    return {
      outcome: "failover-started",
      destinationId: d.destinationId,
      ...(typeof executionArn === "string" ? { executionArn } : {}),
    };
  } catch (err) {
    // Another operation took the destination meanwhile: retried once it settles.
    if (err instanceof ApiError && err.status === 409)
      throw new TaskError(TaskErrors.DestinationBusy, `Destination ${d.destinationId}: ${err.message}`);
    throw err;
  }
}

/**
 * The output's alert cleared while the destination kept running: the platform took the stream
 * back (MediaLive reconnected on its own). Counted once per alert, however often the event comes.
 */
async function onCleared(first: Destination, alarmId: string): Promise<AlertOutcome> {
  let d: Destination | undefined = first;
  // Read-modify-write at the version read: two alerts clearing at once both count.
  for (let attempt = 0; d && attempt < 5; attempt++) {
    if (d.metrics.lastReconnectAlarmId === alarmId)
      return { outcome: "ignored", reason: "this reconnect is already counted" };
    if (d.status !== "running") return { outcome: "ignored", reason: `destination is ${d.status}` };
    const saved = await updateDestination(d.destinationId, {
      set: { "metrics.reconnects": d.metrics.reconnects + 1, "metrics.lastReconnectAlarmId": alarmId },
      condition: atVersion(d.version),
    });
    if (saved) return { outcome: "recorded", destinationId: d.destinationId, what: "reconnected" };
    d = await getDestination(first.destinationId);
  }
  throw new TaskError(TaskErrors.DestinationBusy, `Destination ${first.destinationId} kept changing`);
}

/**
 * Reacts to a MediaLive channel alert on a destination's channel: an output whose ingest refuses
 * the stream fails over to the backup URL (when `failoverEnabled`, through the same path as
 * POST /destinations/{id}/failover), or is recorded as the destination's last error; an output
 * alert that clears while the destination runs counts as a reconnect.
 */
export const reactToChannelAlert = defineTask({
  name: "react-to-channel-alert",
  entry: import.meta.url,
  input: ChannelAlertEvent,
  table: "write",
  grants: [
    { actions: ["medialive:DescribeChannel", "medialive:ListAlerts"], on: "medialive" },
    // The failover: whether the destination's current operation still runs, and starting it.
    { actions: ["states:DescribeExecution"], on: "states" },
  ],
  run: async (event, { signal }): Promise<AlertOutcome[]> => {
    const { detail } = event;
    if (!(OUTPUT_FAILURE_ALERTS as readonly string[]).includes(detail.alert_type))
      return [{ outcome: "ignored", reason: `alert type ${detail.alert_type} is not about an output` }];
    const channelId = detail.channel_arn.split(":").pop() ?? "";
    const channel = await describe(channelId, signal);
    if (!channel) return [{ outcome: "ignored", reason: "the channel no longer exists" }];
    const targets = await destinationsOf(channel.tags, detail.message);
    if (targets.length === 0)
      return [{ outcome: "ignored", reason: "no destination of castflow's uses this output" }];
    if (detail.alarm_state === "SET") {
      if (channel.state !== "RUNNING" || !(await stillSet(channelId, detail.alarm_id, signal)))
        return [{ outcome: "ignored", reason: "the alert is no longer set" }];
      const outcomes = await Promise.all(targets.map(onRefused));
      logger.info("Channel alert handled", { alarmId: detail.alarm_id, outcomes });
      return outcomes;
    }
    if (channel.state !== "RUNNING")
      return [{ outcome: "ignored", reason: `the channel is ${channel.state}` }];
    return await Promise.all(targets.map((d) => onCleared(d, detail.alarm_id)));
  },
});

export const handler = reactToChannelAlert.handler;
