/**
 * MediaLive channel alerts: what ListAlerts lists and what MediaLive sends as "MediaLive Channel
 * Alert" events. One condition is modelled: a RUNNING channel whose RTMP output group pushes to
 * a url the platform refuses (POST /_sim/ingest/refuse) cannot open its output connection, which
 * AWS reports with the alert type of its alert event example, "Failed to Create Output File or
 * Socket". The alert clears when the url accepts again, the channel leaves RUNNING, or its
 * settings stop pushing there. Alerts are derived, like the ingest view: `syncAlerts` runs after
 * every change that can move them.
 */
import { randomUUID } from "node:crypto";
import { eventTime, type SimEvent } from "#local/simulator/events.ts";
import { asString, type MlAlert, type MlChannel, randomHex } from "#local/simulator/store.ts";
import { rtmpSettings } from "./validation.ts";

export const OUTPUT_REFUSED_ALERT = "Failed to Create Output File or Socket";

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
 * Brings every channel's alerts in line with what it pushes now (`alerts` is changed in place):
 * a SET alert whose cause is gone is CLEARED, a cause without a SET alert gets a new one. The
 * alerts of channels no longer in `channels` (purged after DELETED) are dropped. Returns the
 * transitions, CLEARED before SET; running it again without a change returns none.
 */
export function syncAlerts(
  alerts: Record<string, MlAlert[]>,
  channels: Record<string, MlChannel>,
  platform: PlatformLink,
  now = new Date(),
): AlertTransition[] {
  const at = now.toISOString();
  const transitions: AlertTransition[] = [];
  for (const id of Object.keys(alerts)) if (!channels[id]) delete alerts[id];
  for (const channel of Object.values(channels)) {
    const causes = refusedOutputs(channel, platform);
    const list = alerts[channel.id] ?? [];
    for (const alert of list) {
      if (alert.state !== "SET" || causes.has(alert.url)) continue;
      alert.state = "CLEARED";
      alert.clearedTimestamp = at;
      transitions.push({ channel, alert });
    }
    for (const [url, { pipeline, streamName }] of causes) {
      if (list.some((a) => a.state === "SET" && a.url === url)) continue;
      const alert: MlAlert = {
        id: randomHex(40),
        alertType: OUTPUT_REFUSED_ALERT,
        pipelineId: String(pipeline),
        message: outputRefusedMessage(url, streamName),
        state: "SET",
        setTimestamp: at,
        url,
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
 * RTMP (unverified).
 */
export function alertEvent(
  { channel, alert }: AlertTransition,
  account: { accountId: string; region: string },
): SimEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "MediaLive Channel Alert",
    source: "aws.medialive",
    account: account.accountId,
    time: eventTime(
      alert.state === "SET" ? alert.setTimestamp : (alert.clearedTimestamp ?? alert.setTimestamp),
    ),
    region: account.region,
    resources: [channel.arn],
    detail: {
      alarm_state: alert.state,
      alarm_id: alert.id,
      alert_type: alert.alertType,
      pipeline: alert.pipelineId,
      channel_arn: channel.arn,
      message: alert.message,
    },
  };
}
