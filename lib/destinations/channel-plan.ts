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

/** What an update may change: where the channel pushes (URL, key) and how it encodes (preset). */
export function destinationSettings(
  plan: Pick<DestinationChannelPlan, "preset" | "url" | "streamKey">,
): Settings {
  const spec = PRESET_SPECS[plan.preset];
  const video = `video_${plan.preset}`;
  return {
    Destinations: [{ Id: DESTINATION_REF, Settings: [{ Url: plan.url, StreamName: plan.streamKey }] }],
    EncoderSettings: {
      TimecodeConfig: { Source: "EMBEDDED" },
      AudioDescriptions: [
        {
          Name: "audio_aac",
          AudioSelectorName: "default",
          CodecSettings: {
            AacSettings: { Bitrate: 128000, SampleRate: 48000, CodingMode: "CODING_MODE_2_0", Profile: "LC" },
          },
        },
      ],
      VideoDescriptions: [
        {
          Name: video,
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
        },
      ],
      OutputGroups: [
        {
          Name: "restream",
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
              OutputName: "restream",
              VideoDescriptionName: video,
              AudioDescriptionNames: ["audio_aac"],
              OutputSettings: {
                RtmpOutputSettings: {
                  Destination: { DestinationRefId: DESTINATION_REF },
                  ConnectionRetryInterval: 2,
                  NumRetries: 10,
                },
              },
            },
          ],
        },
      ],
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
