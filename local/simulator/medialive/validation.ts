import {
  asObjects,
  asString,
  isObject,
  type Json,
  type JsonObject,
  type SimState,
} from "#local/simulator/store.ts";
import type { ValidationError } from "./errors.ts";

type MediaLiveState = SimState["medialive"];

/** Every `destinationRefId` in the encoder settings, with its JSON path. */
function destinationRefs(v: Json | undefined, path: string, out: { path: string; ref: string }[]): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      destinationRefs(x, `${path}/${i}`, out);
    });
  } else if (isObject(v))
    for (const [k, x] of Object.entries(v)) {
      if (k === "destinationRefId" && typeof x === "string") out.push({ path: `${path}/${k}`, ref: x });
      else destinationRefs(x, `${path}/${k}`, out);
    }
}

/** A `destinations[].settings[]` entry that an RTMP output pushes to. */
export interface RtmpSetting {
  /** Index of the destination in `destinations` and of the entry in its `settings` (= the pipeline). */
  destination: number;
  pipeline: number;
  setting: JsonObject;
}

/**
 * The destinations that the outputs of RTMP output groups (`outputGroupSettings.rtmpGroupSettings`)
 * reference through `outputSettings.rtmpOutputSettings.destination.destinationRefId`, each
 * destination once, with every settings entry. Shared by validation, the IVS liveness link and
 * the platform ingest view.
 */
export function rtmpSettings(spec: JsonObject): RtmpSetting[] {
  const destinations = asObjects(spec.destinations);
  const encoder = isObject(spec.encoderSettings) ? spec.encoderSettings : {};
  const seen = new Set<number>();
  const out: RtmpSetting[] = [];
  for (const group of asObjects(encoder.outputGroups)) {
    const groupSettings = isObject(group.outputGroupSettings) ? group.outputGroupSettings : {};
    if (!isObject(groupSettings.rtmpGroupSettings)) continue;
    for (const output of asObjects(group.outputs)) {
      const settings = isObject(output.outputSettings) ? output.outputSettings : {};
      const rtmp = isObject(settings.rtmpOutputSettings) ? settings.rtmpOutputSettings : {};
      const ref = isObject(rtmp.destination) ? asString(rtmp.destination.destinationRefId) : undefined;
      const idx = destinations.findIndex((d) => asString(d.id) === ref);
      if (ref === undefined || idx < 0 || seen.has(idx)) continue;
      seen.add(idx);
      asObjects(destinations[idx]?.settings).forEach((setting, pipeline) => {
        out.push({ destination: idx, pipeline, setting });
      });
    }
  }
  return out;
}

/**
 * What MediaLive checks in a CreateChannel/UpdateChannel spec (wire JSON), as `validationErrors`
 * entries; empty when the spec is valid. `selfId` is the channel being updated (its own input
 * attachment is not a conflict).
 */
export function validateChannel(
  state: MediaLiveState,
  spec: JsonObject,
  selfId: string | undefined,
): ValidationError[] {
  const errors: ValidationError[] = [];
  const channelClass = asString(spec.channelClass) ?? "STANDARD";
  if (channelClass !== "STANDARD" && channelClass !== "SINGLE_PIPELINE")
    errors.push({ elementPath: "/channelClass", errorMessage: `Unknown channel class '${channelClass}'` });
  const attachments = asObjects(spec.inputAttachments);
  if (attachments.length === 0)
    errors.push({
      elementPath: "/inputAttachments",
      errorMessage: "At least one input attachment is required",
    });
  attachments.forEach((a, idx) => {
    const id = asString(a.inputId);
    const i = id ? state.inputs[id] : undefined;
    if (!i || i.state === "DELETED" || i.state === "DELETING")
      errors.push({
        elementPath: `/inputAttachments/${idx}/inputId`,
        errorMessage: `Input '${id}' does not exist`,
      });
    else {
      // A push input feeds one channel at a time (unverified exact error; MediaLive user guide on input attachment).
      const other = i.attachedChannels.find((c) => c !== selfId && state.channels[c]?.state !== "DELETED");
      if (other)
        errors.push({
          elementPath: `/inputAttachments/${idx}/inputId`,
          errorMessage: `Input '${id}' is already attached to channel '${other}'`,
        });
    }
  });
  if (!isObject(spec.encoderSettings))
    errors.push({ elementPath: "/encoderSettings", errorMessage: "encoderSettings is required" });
  const destinations = asObjects(spec.destinations);
  const wanted = channelClass === "SINGLE_PIPELINE" ? 1 : 2;
  destinations.forEach((d, idx) => {
    // MediaPackage/multiplex destinations have no per-pipeline URL settings.
    if (d.mediaPackageSettings !== undefined || d.multiplexSettings !== undefined) return;
    const n = Array.isArray(d.settings) ? d.settings.length : 0;
    if (n !== wanted)
      errors.push({
        elementPath: `/destinations/${idx}/settings`,
        errorMessage:
          channelClass === "SINGLE_PIPELINE"
            ? `A SINGLE_PIPELINE channel needs exactly 1 destination setting, found ${n}`
            : `A STANDARD channel needs 2 destination settings (one per pipeline), found ${n}; set channelClass SINGLE_PIPELINE for one`,
      });
  });
  const ids = new Set(destinations.map((d) => asString(d.id)));
  const refs: { path: string; ref: string }[] = [];
  destinationRefs(spec.encoderSettings, "/encoderSettings", refs);
  for (const r of refs)
    if (!ids.has(r.ref))
      errors.push({
        elementPath: r.path,
        errorMessage: `Destination '${r.ref}' is not defined in destinations`,
      });
  // An RTMP output pushes to rtmp:// or rtmps:// with a stream name (model: RtmpOutputSettings,
  // OutputDestinationSettings). The checks are MediaLive's documented needs; the messages and the
  // element paths are ours (unverified).
  for (const { destination, pipeline, setting } of rtmpSettings(spec)) {
    const path = `/destinations/${destination}/settings/${pipeline}`;
    const url = asString(setting.url) ?? "";
    if (!/^rtmps?:\/\//.test(url))
      errors.push({
        elementPath: `${path}/url`,
        errorMessage: `An RTMP output destination needs a url starting with rtmp:// or rtmps://, got '${url}'`,
      });
    if ((asString(setting.streamName) ?? "") === "")
      errors.push({
        elementPath: `${path}/streamName`,
        errorMessage: "An RTMP output destination needs a streamName",
      });
  }
  return errors;
}

/** An edit may not change which inputs a channel is attached to (aws-facts.md, user guide "Editing and deleting a channel"). */
export function inputAttachmentChanged(before: JsonObject, patch: JsonObject): boolean {
  if (patch.inputAttachments === undefined) return false;
  const ids = (spec: JsonObject) =>
    asObjects(spec.inputAttachments)
      .map((a) => asString(a.inputId))
      .join(",");
  return ids(before) !== ids(patch);
}
