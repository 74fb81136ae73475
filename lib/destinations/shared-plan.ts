import { createHash } from "node:crypto";
import type { CreateChannelRequest, UpdateChannelRequest } from "@aws-sdk/client-medialive";
import { AUDIO_DESCRIPTION, rtmpOutputGroup, videoDescription } from "./channel-plan.ts";
import { type Destination, type DestinationStatus, isTransitional } from "./model.ts";
import type { Preset } from "./platforms.ts";

/**
 * Shared-channel mode (the "MediaLive Integration" design), pure: one MediaLive channel per
 * shared source carries one RTMP output per destination that wants to run. MediaLive edits a
 * channel only while IDLE, so changing the outputs of a running channel is stop -> update ->
 * start, which interrupts every destination on it. shared-channel-apply plans each pass with
 * `planSharedChannel` from the records (what the destinations want, what the channel is
 * configured with) and applies the plan; nothing here calls AWS.
 */

/** The flow user a shared channel acquires on its source's flow (tasks/destinations/acquire-flow). */
export const SHARED_FLOW_USER = "shared-channel";

/**
 * Passes one shared-channel-apply makes at most: each pass re-plans because changes arrived while
 * the previous one ran. Past it, the pending destinations are recorded as failed (never left
 * pending) and can be asked for again.
 */
export const SHARED_APPLY_MAX_PASSES = 8;

/** Tags of the shared channel and of its MEDIACONNECT input (with `castflow:source` and `castflow:managed-by`). */
export const SHARED_ROLE = {
  channel: "shared-channel",
  input: "shared-input",
  pushInput: "shared-push-input",
};

/** Statuses in which a destination that wants to run is an output of the channel. */
const ON_CHANNEL: readonly DestinationStatus[] = ["starting", "running", "restarting", "updating"];
/** Channel states with nothing to stop. */
const AT_REST = new Set(["IDLE", "CREATE_FAILED", "UPDATE_FAILED", "DELETING", "DELETED"]);
const GONE = new Set(["DELETING", "DELETED"]);

export type Wanted = "running" | "idle" | "deleted";

/** What planning needs of a destination record. */
export interface PlanDestination {
  readonly destinationId: string;
  readonly status: DestinationStatus;
  readonly wanted: Wanted;
  readonly requestId: string | null;
  /** The fingerprint of the output it would have now (`destinationFingerprint`). */
  readonly fingerprint: string;
}

export interface PlanInput {
  /** The source's destinations (deleted ones are ignored). */
  readonly destinations: readonly PlanDestination[];
  readonly channel: {
    readonly channelId: string | null;
    /** MediaLive state; "DELETED" when there is no channel. */
    readonly state: string;
    /** destinationId -> fingerprint of the outputs the channel is configured with. */
    readonly configured: Readonly<Record<string, string>>;
  };
  /** The channel's input: an rtmp-push source's RTMP_PUSH input, or the MEDIACONNECT input on the flow (null until made). */
  readonly input: { readonly type: "RTMP_PUSH" | "MEDIACONNECT"; readonly inputId: string | null };
  /** The source has a MediaConnect flow (started while the channel runs, stopped after). */
  readonly hasFlow: boolean;
  /** The shared channel is a user of the flow now. */
  readonly flowHeld: boolean;
}

export interface SettleItem {
  destinationId: string;
  to: "running" | "idle" | "deleted";
  /** The request the plan saw: a destination asked for something else since is left to the next pass. */
  requestId: string | null;
}

export interface SharedPlan {
  /** destinationId -> fingerprint: the outputs the channel must carry (empty: it must not run). */
  outputs: Record<string, string>;
  /** The channel runs when this pass is done. */
  run: boolean;
  acquireFlow: boolean;
  /** Make the MEDIACONNECT input on the flow before creating the channel. */
  needsInput: boolean;
  /** Stop the channel (before an update, or because nobody wants it). */
  stopChannel: boolean;
  /** Create the channel, or update its outputs (while IDLE). */
  writeChannel: boolean;
  startChannel: boolean;
  /** No destination is left: delete the channel (and a MEDIACONNECT input). */
  deleteChannel: boolean;
  releaseFlow: boolean;
  /** Destinations receiving now that the restart interrupts (their status becomes `restarting`). */
  interrupts: string[];
  /** Every destination this pass settles, with the status it ends in. */
  settle: SettleItem[];
  /** The channel as it is before this pass (a pass that creates one puts its id here). */
  channel: { channelId: string | null };
  /** What a delete removes: the channel, the MEDIACONNECT input, and the RTMP_PUSH input to wait detached for. */
  teardown: { channelId: string | null; inputId: string | null; detachInputId: string | null };
  flowUser: string;
}

/**
 * What a destination wants from its shared channel. A record without `wanted` (written before
 * shared mode set it) wants what it has: running if it runs, else idle.
 */
export const wantedOf = (d: { wanted?: Wanted | undefined; status: DestinationStatus }): Wanted =>
  d.wanted ?? (d.status === "running" ? "running" : "idle");

/** A destination that wants to run and is not in error: an output of the channel. */
export const wantsChannel = (d: { wanted?: Wanted | undefined; status: DestinationStatus }) =>
  wantedOf(d) === "running" && ON_CHANNEL.includes(d.status);

/** The outputs the channel must carry: one fingerprint per destination that wants to run. */
export function desiredOutputs(destinations: readonly PlanDestination[]): Record<string, string> {
  return Object.fromEntries(
    destinations
      .filter((d) => d.status !== "deleted" && wantsChannel(d))
      .map((d) => [d.destinationId, d.fingerprint] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

export function sameOutputs(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

const channelExists = (c: PlanInput["channel"]) => c.channelId !== null && !GONE.has(c.state);

/** One pass of shared-channel-apply: what to do to the channel, and how each pending destination ends. */
export function planSharedChannel(input: PlanInput): SharedPlan {
  const live = input.destinations.filter((d) => d.status !== "deleted");
  const outputs = desiredOutputs(live);
  const run = Object.keys(outputs).length > 0;
  const { channel } = input;
  const exists = channelExists(channel);
  const differ = !sameOutputs(channel.configured, outputs);
  const moving = exists && !AT_REST.has(channel.state);
  const stopChannel = run ? exists && differ && moving : moving;
  const writeChannel = run && (!exists || differ);
  const startChannel = run && (stopChannel || writeChannel || channel.state !== "RUNNING");
  const interrupts = stopChannel
    ? live
        .filter((d) => d.status === "running" && outputs[d.destinationId] !== undefined)
        .map((d) => d.destinationId)
    : [];
  const remaining = live.filter((d) => !(d.wanted === "deleted" && d.status === "deleting"));
  const ownInput = input.input.type === "MEDIACONNECT" ? input.input.inputId : null;
  const deleteChannel = !run && remaining.length === 0 && (exists || ownInput !== null);
  const settle: SettleItem[] = live
    .filter((d) => isTransitional(d.status) || interrupts.includes(d.destinationId))
    .map((d) => ({
      destinationId: d.destinationId,
      to: wantsChannel(d) || d.status === "running" ? "running" : d.wanted === "deleted" ? "deleted" : "idle",
      requestId: d.requestId,
    }));
  return {
    outputs,
    run,
    acquireFlow: run && input.hasFlow,
    needsInput: run && !exists && input.input.type === "MEDIACONNECT" && input.input.inputId === null,
    stopChannel,
    writeChannel,
    startChannel,
    deleteChannel,
    releaseFlow: !run && input.hasFlow && input.flowHeld,
    interrupts,
    settle,
    channel: { channelId: exists ? channel.channelId : null },
    teardown: deleteChannel
      ? {
          channelId: exists ? channel.channelId : null,
          inputId: ownInput,
          detachInputId: exists && input.input.type === "RTMP_PUSH" ? input.input.inputId : null,
        }
      : { channelId: null, inputId: null, detachInputId: null },
    flowUser: SHARED_FLOW_USER,
  };
}

/**
 * After a failed pass: whether the channel may keep running. Only if it runs and carries exactly
 * destinations that are settled `running` with the settings they want; anything else (an output
 * for a destination that is pending, failed or no longer wants it) means stopping it, so nothing
 * runs for a destination that did not ask for it.
 */
export function mayKeepRunning(input: Pick<PlanInput, "destinations" | "channel">): boolean {
  const { channel } = input;
  if (!channelExists(channel) || channel.state !== "RUNNING") return false;
  const configured = Object.entries(channel.configured);
  if (configured.length === 0) return false;
  return configured.every(([id, fingerprint]) => {
    const d = input.destinations.find((x) => x.destinationId === id);
    return d?.status === "running" && d.wanted === "running" && d.fingerprint === fingerprint;
  });
}

/**
 * Who a failed pass leaves in `error`: every destination it was working for (transitional), and
 * every `running` one whose channel no longer runs (interrupted by the failure or its clean-up).
 */
export function failedDestinations(
  destinations: readonly Pick<PlanDestination, "destinationId" | "status">[],
  channelRuns: boolean,
): { destinationId: string; interrupted: boolean }[] {
  return destinations
    .filter((d) => isTransitional(d.status) || (d.status === "running" && !channelRuns))
    .map((d) => ({ destinationId: d.destinationId, interrupted: d.status === "running" }));
}

// ---------- fingerprints ----------

type Target = Pick<
  Destination,
  | "activeUrl"
  | "rtmpUrl"
  | "backupRtmpUrl"
  | "streamKeyParameter"
  | "backupStreamKeyParameter"
  | "streamKeyVersion"
  | "backupStreamKeyVersion"
  | "preset"
>;

/** Where the destination pushes now (its active URL), the SSM parameter of that URL's key and the key's version. */
export function activeOutput(d: Target): { url: string; keyParameter: string; keyVersion: number } {
  if (d.activeUrl === "backup" && d.backupRtmpUrl)
    return {
      url: d.backupRtmpUrl,
      keyParameter: d.backupStreamKeyParameter ?? d.streamKeyParameter,
      keyVersion: (d.backupStreamKeyParameter ? d.backupStreamKeyVersion : d.streamKeyVersion) ?? 0,
    };
  return { url: d.rtmpUrl, keyParameter: d.streamKeyParameter, keyVersion: d.streamKeyVersion ?? 0 };
}

/**
 * What a destination's output is, without the key: URL, key parameter name and version, preset.
 * The channel's configured outputs are kept as these, so a new key (a new parameter version), URL
 * or preset shows as a difference without the key ever leaving SSM.
 */
export function destinationFingerprint(d: Target): string {
  const { url, keyParameter, keyVersion } = activeOutput(d);
  return createHash("sha256")
    .update(JSON.stringify([url, keyParameter, keyVersion, d.preset]))
    .digest("hex")
    .slice(0, 20);
}

// ---------- the channel ----------

export interface SharedOutput {
  readonly destinationId: string;
  readonly url: string;
  readonly streamKey: string;
  readonly preset: Preset;
}

type Settings = Pick<UpdateChannelRequest, "Destinations" | "EncoderSettings">;

/**
 * The channel's destinations and encoder settings: one RTMP output group per destination (its own
 * restart delay and connection retries), each with one output pushing to the destination's URL
 * with its stream key as the stream name (plain text in MediaLive's settings: it has no reference
 * type for it). One H.264 CBR encode per preset in use (2 s keyframes), shared by the outputs that
 * use it, and one AAC 128 kb/s 48 kHz encode shared by all: MediaLive shares an encode between
 * outputs of different output groups ("encode sharing"; *uncertain* whether AWS also accepts it
 * within one group, hence one group per destination).
 */
export function sharedChannelSettings(outputs: readonly SharedOutput[]): Settings {
  const sorted = [...outputs].sort((a, b) => a.destinationId.localeCompare(b.destinationId));
  const presets = [...new Set(sorted.map((o) => o.preset))].sort();
  return {
    Destinations: sorted.map((o) => ({
      Id: `dest-${o.destinationId}`,
      Settings: [{ Url: o.url, StreamName: o.streamKey }],
    })),
    EncoderSettings: {
      TimecodeConfig: { Source: "EMBEDDED" },
      AudioDescriptions: [AUDIO_DESCRIPTION],
      // One encode per preset, shared by the outputs of that preset.
      VideoDescriptions: presets.map(videoDescription),
      OutputGroups: sorted.map((o, i) =>
        rtmpOutputGroup(`restream-${i + 1}`, `out-${o.destinationId}`, o.preset, `dest-${o.destinationId}`),
      ),
    },
  };
}

export interface SharedChannelSpec {
  readonly name: string;
  readonly inputId: string;
  readonly roleArn: string;
  readonly requestId: string;
  readonly tags: Record<string, string>;
  readonly outputs: readonly SharedOutput[];
}

/** CreateChannel for a shared channel: SINGLE_PIPELINE (one destination setting per output) on the source's input. */
export function buildSharedChannel(spec: SharedChannelSpec): CreateChannelRequest {
  return {
    Name: spec.name,
    ChannelClass: "SINGLE_PIPELINE",
    RoleArn: spec.roleArn,
    RequestId: spec.requestId,
    Tags: spec.tags,
    LogLevel: "WARNING",
    InputSpecification: { Codec: "AVC", Resolution: "HD", MaximumBitrate: "MAX_20_MBPS" },
    InputAttachments: [
      {
        InputId: spec.inputId,
        InputAttachmentName: "source",
        InputSettings: { AudioSelectors: [{ Name: "default" }] },
      },
    ],
    ...sharedChannelSettings(spec.outputs),
  };
}

/**
 * Which destinations a change interrupts, as the API tells the caller before it happens: when the
 * change alters the outputs of the channel, every other destination on it is cut off for the
 * stop -> update -> start: those receiving now (`running`, `restarting`), and those on their way
 * to it (`starting`, `updating`), whose channel may be running by the time this change is applied.
 * Never fewer than the restart really interrupts; when changes coalesce into one pass, possibly
 * more.
 */
export function interruptedBy(
  destinations: readonly Pick<Destination, "destinationId" | "status" | "wanted">[],
  changed: string,
): string[] {
  return destinations
    .filter((d) => d.destinationId !== changed && wantsChannel(d))
    .map((d) => d.destinationId)
    .sort();
}

/** A destination record as planning sees it. */
export function toPlanDestination(d: Destination): PlanDestination {
  return {
    destinationId: d.destinationId,
    status: d.status,
    wanted: wantedOf(d),
    requestId: d.requestId ?? null,
    fingerprint: destinationFingerprint(d),
  };
}
