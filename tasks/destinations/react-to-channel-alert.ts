import type { ChannelAlert } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { failoverDestination } from "#api/destinations.ts";
import { ApiError } from "#api/http.ts";
import { channelStateAndTags, listChannelAlerts } from "#lib/aws/medialive.ts";
import { atVersion } from "#lib/conditional-update.ts";
import { type Destination, DestinationTags } from "#lib/destinations/model.ts";
import { activeOutput, SHARED_ROLE, wantsChannel } from "#lib/destinations/shared-plan.ts";
import { getDestination, getSource, listDestinations, updateDestination } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { Tags } from "#lib/sessions/model.ts";
import { defineTask } from "#tasks/define.ts";

/**
 * MediaLive alert types that mean an output cannot reach its destination. "Failed to Create Output
 * File or Socket" is the one AWS documents in its alert event example (MediaLive UG, "JSON for an
 * alert event"); MediaLive publishes no complete list of alert types for RTMP outputs.
 */
export const OUTPUT_FAILURE_ALERTS = ["Failed to Create Output File or Socket"] as const;

/**
 * The fields of a `MediaLive Channel Alert` event the reaction receives (its rule's input
 * transformer). The alert's message is left out on purpose: it names the output's path, for RTMP
 * the URL and the stream name, which is a platform's stream key. The task reads it from
 * ListAlerts and never logs, stores or returns it.
 */
export const ALERT_FIELDS = {
  eventId: "$.id",
  time: "$.time",
  alarmState: "$.detail.alarm_state",
  alarmId: "$.detail.alarm_id",
  alertType: "$.detail.alert_type",
  pipeline: "$.detail.pipeline",
  channelArn: "$.detail.channel_arn",
} as const;

const ChannelAlertInput = z.object({
  eventId: z.string(),
  time: z.string(),
  alarmState: z.enum(["SET", "CLEARED"]),
  alarmId: z.string().min(1),
  alertType: z.string(),
  pipeline: z.string().nullish(),
  channelArn: z.string().startsWith("arn:"),
});
type ChannelAlertInput = z.infer<typeof ChannelAlertInput>;

export type AlertOutcome =
  | { outcome: "ignored"; reason: string; destinationId?: string }
  | { outcome: "failover-started"; destinationId: string; executionArn?: string; interrupts?: string[] }
  | { outcome: "recorded"; destinationId: string; what: "refused" | "reconnected" };

const ignored = (reason: string, destinationId?: string): AlertOutcome => ({
  outcome: "ignored",
  reason,
  ...(destinationId ? { destinationId } : {}),
});

/** Statuses in which a destination is about to run (again): a failover waits for them to settle. */
const SETTLING = ["starting", "restarting", "updating"];

/**
 * The alert as MediaLive lists it now: by id, else (should an event's `alarm_id` not be the
 * alert's `Id`, which AWS does not document: unverified) the latest alert of the same type and
 * pipeline in the event's state. Undefined when the channel has no such alert any more.
 */
async function currentAlert(channelId: string, alert: ChannelAlertInput, signal: AbortSignal) {
  const all = await listChannelAlerts(channelId, undefined, signal);
  return (
    all.find((a) => a.Id === alert.alarmId) ??
    all
      .filter(
        (a) =>
          a.AlertType === alert.alertType &&
          (alert.pipeline == null || a.PipelineId === alert.pipeline) &&
          a.State === alert.alarmState,
      )
      .sort((a, b) => (b.SetTimestamp?.getTime() ?? 0) - (a.SetTimestamp?.getTime() ?? 0))[0]
  );
}

/** Does the alert's message name this URL as the output's path (`[<url>]` or `[<url>/<stream name>]`)? */
const names = (message: string, url: string) => message.includes(`[${url}]`) || message.includes(`[${url}/`);
/** Does the message name any output path at all? */
const namesAnyOutput = (message: string) => /\[(rtmps?|https?):\/\//.test(message);

/**
 * The destinations the alert is about. A per-destination channel has one output: its destination,
 * if the channel is still the one its record names and the alert names its active URL (or no URL
 * at all); an alert about a URL it no longer uses (after a failover) is stale. On a shared channel:
 * the destinations on the channel whose active URL the alert names.
 */
async function destinationsOf(channelId: string, tags: Record<string, string>, message: string) {
  const own = tags[DestinationTags.destinationId];
  if (own) {
    const d = await getDestination(own);
    if (!d || d.mediaLive.channelId !== channelId) return [];
    return !namesAnyOutput(message) || names(message, activeOutput(d).url) ? [d] : [];
  }
  const sourceId = tags[DestinationTags.sourceId];
  if (!sourceId || tags[Tags.role] !== SHARED_ROLE.channel) return [];
  const source = await getSource(sourceId);
  if (source?.shared?.channelId !== channelId) return [];
  return (await listDestinations({ sourceId })).filter(
    (d) => d.deliveryMode === "shared" && wantsChannel(d) && names(message, activeOutput(d).url),
  );
}

/** Records the refusal as the destination's last error, in castflow's words, unless it changed meanwhile. */
async function recordRefused(d: Destination, why: string): Promise<AlertOutcome> {
  const saved = await updateDestination(d.destinationId, {
    set: { "metrics.lastError": { code: "IngestRefused", message: why } },
    condition: atVersion(d.version),
  });
  return saved
    ? { outcome: "recorded", destinationId: d.destinationId, what: "refused" }
    : ignored("the destination changed meanwhile", d.destinationId);
}

/** The active ingest refuses the stream: fail over to the backup when the destination allows it. */
async function onRefused(d: Destination, ambiguous: boolean): Promise<AlertOutcome> {
  const canFailOver = d.failoverEnabled && d.activeUrl === "primary" && d.backupRtmpUrl !== undefined;
  if (ambiguous)
    return await recordRefused(
      d,
      "The platform's ingest refuses a stream of this shared channel; other destinations push to the same URL, so castflow cannot tell which one and does not fail over on its own",
    );
  if (!canFailOver)
    return await recordRefused(
      d,
      d.activeUrl === "backup"
        ? "The backup ingest refuses the stream; fail back to the primary with POST /destinations/{id}/failover once it accepts"
        : "The platform's ingest refuses the stream (check the stream key and the platform's event)",
    );
  if (SETTLING.includes(d.status))
    // Lambda retries the event (about 1 and 3 minutes later) once the destination runs.
    throw new TaskError(
      TaskErrors.DestinationBusy,
      `Destination ${d.destinationId} is ${d.status}; the failover waits until it runs`,
    );
  if (d.status !== "running") return ignored(`the destination is ${d.status}`, d.destinationId);
  try {
    const answer = await failoverDestination(d, "backup");
    const { executionArn, interrupts } = answer.body;
    return {
      outcome: "failover-started",
      destinationId: d.destinationId,
      ...(typeof executionArn === "string" ? { executionArn } : {}),
      ...(Array.isArray(interrupts) ? { interrupts: interrupts as string[] } : {}),
    };
  } catch (err) {
    // Another request took the destination meanwhile: the event is retried once it settles.
    if (err instanceof ApiError && err.status === 409)
      throw new TaskError(TaskErrors.DestinationBusy, `Destination ${d.destinationId}: ${err.message}`);
    throw err;
  }
}

/**
 * The output's alert cleared while the destination kept running since before it was set: the
 * platform took the stream back (MediaLive reconnected on its own). An alert that cleared because
 * the channel restarted is no reconnect. Counted once per alert occurrence (its id and the time it
 * was set), however often the event comes.
 */
async function onCleared(first: Destination, alert: ChannelAlert): Promise<AlertOutcome> {
  const occurrence = `${alert.Id}@${alert.SetTimestamp?.toISOString() ?? ""}`;
  let d: Destination | undefined = first;
  for (let attempt = 0; d && attempt < 5; attempt++) {
    if (d.metrics.lastReconnectAlarmId === occurrence) return ignored("already counted", d.destinationId);
    if (d.status !== "running") return ignored(`the destination is ${d.status}`, d.destinationId);
    const since = d.metrics.runningSince ? Date.parse(d.metrics.runningSince) : Number.POSITIVE_INFINITY;
    if (!alert.SetTimestamp || since > alert.SetTimestamp.getTime())
      return ignored("the alert cleared with a restart", d.destinationId);
    const saved = await updateDestination(d.destinationId, {
      set: { "metrics.reconnects": d.metrics.reconnects + 1, "metrics.lastReconnectAlarmId": occurrence },
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
  input: ChannelAlertInput,
  table: "write",
  grants: [
    { actions: ["medialive:DescribeChannel", "medialive:ListAlerts"], on: "medialive" },
    // The failover: whether the destination's current operation still runs, and starting it.
    { actions: ["states:DescribeExecution"], on: "states" },
  ],
  run: async (event, { signal }): Promise<AlertOutcome[]> => {
    if (!(OUTPUT_FAILURE_ALERTS as readonly string[]).includes(event.alertType))
      return [ignored(`alert type ${event.alertType} is not about an output`)];
    const channelId = event.channelArn.split(":").pop() ?? "";
    const channel = await channelStateAndTags(channelId, signal);
    if (channel.state === "DELETED") return [ignored("the channel no longer exists")];
    const alert = await currentAlert(channelId, event, signal);
    if (
      !alert ||
      alert.State !== event.alarmState ||
      (event.alarmState === "SET" && channel.state !== "RUNNING")
    )
      return [ignored(`the alert is no longer ${event.alarmState.toLowerCase()}`)];
    const targets = await destinationsOf(channelId, channel.tags, alert.Message ?? "");
    if (targets.length === 0) return [ignored("no destination of castflow's pushes to this output now")];
    const outcomes =
      event.alarmState === "SET"
        ? await Promise.all(targets.map((d) => onRefused(d, targets.length > 1)))
        : channel.state === "RUNNING"
          ? await Promise.all(targets.map((d) => onCleared(d, alert)))
          : [ignored(`the channel is ${channel.state}`)];
    logger.info("Channel alert handled", { alarmId: event.alarmId, alarmState: event.alarmState, outcomes });
    return outcomes;
  },
});

export const handler = reactToChannelAlert.handler;
