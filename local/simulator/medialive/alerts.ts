/**
 * MediaLive channel alerts: what ListAlerts lists and what MediaLive sends as "MediaLive Channel
 * Alert" events. Two conditions are modelled:
 * - a RUNNING channel whose RTMP output group pushes to a url the platform refuses (POST
 *   /_sim/ingest/refuse) cannot open its output connection, which AWS reports with the alert type
 *   of its alert event example, "Failed to Create Output File or Socket". The alert clears when
 *   the url accepts again, the channel leaves RUNNING, or its settings stop pushing there.
 * - a RUNNING channel whose (first attached) input is a push input declared silent (POST
 *   /_sim/sources {inputId, pushing: false}) receives nothing, which MediaLive reports per
 *   pipeline as "RTMP Has No Audio/Video" (the alert the marsha project reads as "a live with no
 *   stream"). It clears when the input pushes again or the channel leaves RUNNING. MEDIACONNECT
 *   inputs are not covered (their content comes from the flow).
 * Alerts are derived, like the ingest view: `syncAlerts` runs after every change that can move
 * them.
 */
import { awsEvent, eventTime, type SimEvent } from "#local/simulator/events.ts";
import {
  asObjects,
  asString,
  type MlAlert,
  type MlChannel,
  type MlInput,
  randomHex,
} from "#local/simulator/store.ts";
import { rtmpSettings } from "./validation.ts";

export const OUTPUT_REFUSED_ALERT = "Failed to Create Output File or Socket";

/**
 * A channel pipeline that receives nothing from its RTMP input: alert 5307 of the MediaLive user
 * guide's list of channel alerts (monitor-activity-types-alerts-channels, "The channel is
 * configured to receive an RTMP input, but the specified RTMP stream is no longer present"). The
 * marsha project detects "a live with no stream" from this alert_type in its "MediaLive Channel
 * Alert" events. Raised here, per pipeline, for any non-MEDIACONNECT input declared silent.
 */
export const NO_INPUT_ALERT = "RTMP Has No Audio/Video";

/**
 * Alerts kept per channel, oldest CLEARED ones dropped first. AWS keeps a cleared alert about
 * 5 minutes (MediaLive user guide, "Monitoring alerts using the AWS SDKs or API"); a count
 * instead of an age keeps tests at any timeScale deterministic.
 */
export const MAX_ALERTS_PER_CHANNEL = 100;

/** What MediaLive learns from the platforms its RTMP outputs push to. Wired in index.ts to the ingest view. */
export interface PlatformLink {
  /** The platform at this exact url refuses every stream. */
  refuses(url: string): boolean;
}

/** No platform refuses anything. */
export const NO_REFUSALS: PlatformLink = { refuses: () => false };

/** A SET or CLEARED that just happened. */
export interface AlertTransition {
  channel: MlChannel;
  alert: MlAlert;
}

/**
 * The message of an output refusal, naming the output's path as AWS's alert example does
 * ("... unable to open output or stream [<path>]"): for RTMP, the URL and the stream name. The
 * stream name is the platform's stream key, so a real alert message may hold a secret
 * (unverified; assumed): castflow never logs or stores alert messages.
 */
export function outputRefusedMessage(url: string, streamName: string): string {
  return `RTMP connection to [${streamName ? `${url}/${streamName}` : url}] failed: the server refused the stream`;
}

/**
 * The message of a silent input. The wording is ours (unverified): marsha's test fixtures show
 * "Waiting for RTMP input", to which we add the input id; it names no stream key and no input url.
 */
export function noInputMessage(inputId: string): string {
  return `Waiting for RTMP input: no audio or video received on input ${inputId}`;
}

/** An alert a channel's current situation calls for: one SET alert per channel and `key`. */
interface Cause {
  alertType: string;
  pipelineId: string;
  message: string;
  url: string;
}

/**
 * What makes two alerts of a channel the same alert: the url for an output refusal (whatever
 * pipeline first pushes there), the pipeline for a silent input (a channel's input attachment
 * cannot change). A silent-input alert keeps `url` empty.
 */
function alertKey(a: { alertType: string; pipelineId: string; url: string }): string {
  return a.alertType === NO_INPUT_ALERT
    ? JSON.stringify([a.alertType, a.pipelineId])
    : JSON.stringify([OUTPUT_REFUSED_ALERT, a.url]);
}

/** The number of pipelines of a channel: 1 for SINGLE_PIPELINE, 2 for STANDARD (the default). */
export function pipelineCount(c: MlChannel): number {
  return asString(c.spec.channelClass) === "SINGLE_PIPELINE" ? 1 : 2;
}

/** The id of a RUNNING channel's (first attached) input if it is a push input declared silent. */
function silentInput(c: MlChannel, inputs: Record<string, MlInput>): string | undefined {
  if (c.state !== "RUNNING") return undefined;
  const inputId = asString(asObjects(c.spec.inputAttachments)[0]?.inputId);
  const i = inputId ? inputs[inputId] : undefined;
  if (!i || i.spec.type === "MEDIACONNECT" || i.pushing !== false) return undefined;
  return i.id;
}

/** Every alert the channel calls for now, by alertKey: output refusals first, then silent-input pipelines. */
function causesOf(c: MlChannel, platform: PlatformLink, inputs: Record<string, MlInput>): Map<string, Cause> {
  const out = new Map<string, Cause>();
  for (const [url, { pipeline, streamName }] of refusedOutputs(c, platform)) {
    const cause: Cause = {
      alertType: OUTPUT_REFUSED_ALERT,
      pipelineId: String(pipeline),
      message: outputRefusedMessage(url, streamName),
      url,
    };
    out.set(alertKey(cause), cause);
  }
  const inputId = silentInput(c, inputs);
  if (inputId !== undefined)
    for (let pipeline = 0; pipeline < pipelineCount(c); pipeline++) {
      const cause: Cause = {
        alertType: NO_INPUT_ALERT,
        pipelineId: String(pipeline),
        message: noInputMessage(inputId),
        url: "",
      };
      out.set(alertKey(cause), cause);
    }
  return out;
}

/** The refused urls a RUNNING channel pushes to, each with the first pipeline pushing there and its stream name. */
function refusedOutputs(
  c: MlChannel,
  platform: PlatformLink,
): Map<string, { pipeline: number; streamName: string }> {
  const out = new Map<string, { pipeline: number; streamName: string }>();
  if (c.state !== "RUNNING") return out;
  for (const { pipeline, setting } of rtmpSettings(c.spec)) {
    const url = asString(setting.url);
    if (url && !out.has(url) && platform.refuses(url))
      out.set(url, { pipeline, streamName: asString(setting.streamName) ?? "" });
  }
  return out;
}

/** Drops the oldest CLEARED alerts beyond the cap (SET ones are current: never dropped). */
function trim(alerts: MlAlert[]): void {
  while (alerts.length > MAX_ALERTS_PER_CHANNEL) {
    const oldest = alerts.findIndex((a) => a.state === "CLEARED");
    if (oldest < 0) return;
    alerts.splice(oldest, 1);
  }
}

/**
 * Brings every channel's alerts in line with what it pushes and receives now (`alerts` is changed
 * in place): a SET alert whose cause is gone is CLEARED, a cause without a SET alert gets a new
 * one. `inputs` are the channels' inputs (for the silent-input alert; without them none is
 * raised). The alerts of channels no longer in `channels` (purged after DELETED) are dropped.
 * Returns the transitions, CLEARED before SET; running it again without a change returns none.
 */
export function syncAlerts(
  alerts: Record<string, MlAlert[]>,
  channels: Record<string, MlChannel>,
  platform: PlatformLink,
  inputs: Record<string, MlInput> = {},
  now = new Date(),
): AlertTransition[] {
  const at = now.toISOString();
  const transitions: AlertTransition[] = [];
  for (const id of Object.keys(alerts)) if (!channels[id]) delete alerts[id];
  for (const channel of Object.values(channels)) {
    const causes = causesOf(channel, platform, inputs);
    const list = alerts[channel.id] ?? [];
    for (const alert of list) {
      if (alert.state !== "SET" || causes.has(alertKey(alert))) continue;
      alert.state = "CLEARED";
      alert.clearedTimestamp = at;
      transitions.push({ channel, alert });
    }
    for (const [key, cause] of causes) {
      if (list.some((a) => a.state === "SET" && alertKey(a) === key)) continue;
      const alert: MlAlert = {
        id: randomHex(40),
        alertType: cause.alertType,
        pipelineId: cause.pipelineId,
        message: cause.message,
        state: "SET",
        setTimestamp: at,
        url: cause.url,
      };
      list.push(alert);
      transitions.push({ channel, alert });
    }
    trim(list);
    if (list.length > 0) alerts[channel.id] = list;
  }
  return transitions;
}

/**
 * The "MediaLive Channel Alert" event of a transition, in the shape of AWS's alert event example
 * (MediaLive user guide, monitoring-cloudwatch-json-alert): `detail` members in snake_case,
 * `alarm_id` the alert's id, `pipeline` its pipeline id. AWS's example message names the
 * destination the same way ("... unable to open output or stream [<url>]."); ours is worded for
 * RTMP (unverified). The silent-input alert uses the same shape, one event per pipeline.
 */
export function alertEvent(
  { channel, alert }: AlertTransition,
  account: { accountId: string; region: string },
): SimEvent {
  return awsEvent(account, {
    detailType: "MediaLive Channel Alert",
    source: "aws.medialive",
    resource: channel.arn,
    time: eventTime(
      alert.state === "SET" ? alert.setTimestamp : (alert.clearedTimestamp ?? alert.setTimestamp),
    ),
    detail: {
      alarm_state: alert.state,
      alarm_id: alert.id,
      alert_type: alert.alertType,
      pipeline: alert.pipelineId,
      channel_arn: channel.arn,
      message: alert.message,
    },
  });
}
