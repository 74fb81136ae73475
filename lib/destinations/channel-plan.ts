import type { CreateChannelRequest, UpdateChannelRequest } from "@aws-sdk/client-medialive";
import { PRESET_SPECS, type Preset } from "./platforms.ts";

/**
 * A destination's own channel: SINGLE_PIPELINE, fed by its MEDIACONNECT input, one H.264 CBR
 * rendition at the preset (2 s keyframes) with AAC 128 kb/s 48 kHz, pushed over RTMP(S) to one
 * ingest. The stream key is the RTMP stream name: MediaLive keeps it as plain text in the
 * channel's settings (it has no reference type for it), so it is resolved inside the task that
 * writes the channel and goes nowhere else.
 */
export interface DestinationChannelPlan {
  readonly name: string;
  readonly inputId: string;
  readonly roleArn: string;
  readonly preset: Preset;
  readonly url: string;
  readonly streamKey: string;
  readonly requestId: string;
  readonly tags: Record<string, string>;
}

export const DESTINATION_REF = "destination";

type Settings = Pick<UpdateChannelRequest, "Destinations" | "EncoderSettings">;
type Encoder = NonNullable<UpdateChannelRequest["EncoderSettings"]>;
type OutputGroup = NonNullable<Encoder["OutputGroups"]>[number];

/** The audio every restream output carries: AAC 128 kb/s, 48 kHz, stereo. */
export const AUDIO_NAME = "audio_aac";
export const AUDIO_DESCRIPTION: NonNullable<Encoder["AudioDescriptions"]>[number] = {
  Name: AUDIO_NAME,
  AudioSelectorName: "default",
  CodecSettings: {
    AacSettings: { Bitrate: 128000, SampleRate: 48000, CodingMode: "CODING_MODE_2_0", Profile: "LC" },
  },
};

export const videoName = (preset: Preset) => `video_${preset}`;

/** H.264 CBR at the preset, 2 s keyframes (what every platform asks for). */
export function videoDescription(preset: Preset): NonNullable<Encoder["VideoDescriptions"]>[number] {
  const spec = PRESET_SPECS[preset];
  return {
    Name: videoName(preset),
    Width: spec.width,
    Height: spec.height,
    ScalingBehavior: "DEFAULT",
    CodecSettings: {
      H264Settings: {
        Bitrate: spec.videoBitrate,
        RateControlMode: "CBR",
        FramerateControl: "SPECIFIED",
        FramerateNumerator: spec.fps,
        FramerateDenominator: 1,
        GopSize: 2,
        GopSizeUnits: "SECONDS",
        Profile: "HIGH",
        Level: spec.fps > 30 ? "H264_LEVEL_4_2" : "H264_LEVEL_4_1",
      },
    },
  };
}

/**
 * One RTMP output group pushing one output to `destinationRefId`: a platform that drops the
 * connection is retried every 2 s (10 times, then after the 15 s restart delay), and lost input
 * keeps the push alive with a slate (EMIT_OUTPUT) so the platform does not end the broadcast.
 */
export function rtmpOutputGroup(
  name: string,
  outputName: string,
  preset: Preset,
  destinationRefId: string,
): OutputGroup {
  return {
    Name: name,
    OutputGroupSettings: {
      RtmpGroupSettings: {
        AuthenticationScheme: "COMMON",
        CacheLength: 30,
        RestartDelay: 15,
        InputLossAction: "EMIT_OUTPUT",
      },
    },
    Outputs: [
      {
        OutputName: outputName,
        VideoDescriptionName: videoName(preset),
        AudioDescriptionNames: [AUDIO_NAME],
        OutputSettings: {
          RtmpOutputSettings: {
            Destination: { DestinationRefId: destinationRefId },
            ConnectionRetryInterval: 2,
            NumRetries: 10,
          },
        },
      },
    ],
  };
}

/** What an update may change: where the channel pushes (URL, key) and how it encodes (preset). */
export function destinationSettings(
  plan: Pick<DestinationChannelPlan, "preset" | "url" | "streamKey">,
): Settings {
  return {
    Destinations: [{ Id: DESTINATION_REF, Settings: [{ Url: plan.url, StreamName: plan.streamKey }] }],
    EncoderSettings: {
      TimecodeConfig: { Source: "EMBEDDED" },
      AudioDescriptions: [AUDIO_DESCRIPTION],
      VideoDescriptions: [videoDescription(plan.preset)],
      OutputGroups: [rtmpOutputGroup("restream", "restream", plan.preset, DESTINATION_REF)],
    },
  };
}

export function buildDestinationChannel(plan: DestinationChannelPlan): CreateChannelRequest {
  return {
    Name: plan.name,
    ChannelClass: "SINGLE_PIPELINE",
    RoleArn: plan.roleArn,
    RequestId: plan.requestId,
    Tags: plan.tags,
    LogLevel: "WARNING",
    InputSpecification: { Codec: "AVC", Resolution: "HD", MaximumBitrate: "MAX_20_MBPS" },
    InputAttachments: [
      {
        InputId: plan.inputId,
        InputAttachmentName: "source",
        InputSettings: { AudioSelectors: [{ Name: "default" }] },
      },
    ],
    ...destinationSettings(plan),
  };
}
