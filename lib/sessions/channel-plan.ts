import type { CreateChannelRequest } from "@aws-sdk/client-medialive";

/**
 * The go-live channel: one 1080p30 H.264 rendition at 4.5 Mb/s with AAC 128 kb/s 48 kHz, sent
 * (1) over RTMPS to the session's IVS program ingest and (2) as an HLS recording to S3.
 * SINGLE_PIPELINE: one destination setting per destination (a STANDARD channel needs two).
 */
export interface ChannelPlan {
  readonly name: string;
  readonly inputId: string;
  readonly roleArn: string;
  readonly ivsIngestEndpoint: string;
  /** Resolved inside the task from IVS; never part of a state payload. */
  readonly streamKey: string;
  readonly recordingBucket: string;
  readonly sessionId: string;
  readonly requestId: string;
  readonly tags: Record<string, string>;
}

export const PROGRAM_DESTINATION_ID = "ivs-program";
export const RECORDING_DESTINATION_ID = "recording";

export const recordingPrefix = (sessionId: string) => `sessions/${sessionId}/recording/`;

/** Where the channel pushes the program: the IVS channel's RTMPS ingest, with its stream key. */
export const programDestinationSetting = (ivsIngestEndpoint: string, streamKey: string) => ({
  Url: `rtmps://${ivsIngestEndpoint}:443/app/`,
  StreamName: streamKey,
});

export function buildChannelRequest(plan: ChannelPlan): CreateChannelRequest {
  return {
    Name: plan.name,
    ChannelClass: "SINGLE_PIPELINE",
    RoleArn: plan.roleArn,
    RequestId: plan.requestId,
    Tags: plan.tags,
    LogLevel: "WARNING",
    InputSpecification: { Codec: "AVC", Resolution: "HD", MaximumBitrate: "MAX_10_MBPS" },
    InputAttachments: [
      {
        InputId: plan.inputId,
        InputAttachmentName: "host",
        InputSettings: { AudioSelectors: [{ Name: "default" }] },
      },
    ],
    Destinations: [
      {
        Id: PROGRAM_DESTINATION_ID,
        Settings: [programDestinationSetting(plan.ivsIngestEndpoint, plan.streamKey)],
      },
      {
        Id: RECORDING_DESTINATION_ID,
        Settings: [{ Url: `s3ssl://${plan.recordingBucket}/${recordingPrefix(plan.sessionId)}index` }],
      },
    ],
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
          Name: "video_1080p30",
          Width: 1920,
          Height: 1080,
          ScalingBehavior: "DEFAULT",
          CodecSettings: {
            H264Settings: {
              Bitrate: 4_500_000,
              RateControlMode: "CBR",
              FramerateControl: "SPECIFIED",
              FramerateNumerator: 30,
              FramerateDenominator: 1,
              GopSize: 2,
              GopSizeUnits: "SECONDS",
              Profile: "HIGH",
              Level: "H264_LEVEL_4_1",
            },
          },
        },
      ],
      OutputGroups: [
        {
          Name: "ivs-program",
          OutputGroupSettings: {
            RtmpGroupSettings: {
              AuthenticationScheme: "COMMON",
              CaptionData: "ALL",
              InputLossAction: "EMIT_OUTPUT",
            },
          },
          Outputs: [
            {
              OutputName: "program",
              VideoDescriptionName: "video_1080p30",
              AudioDescriptionNames: ["audio_aac"],
              OutputSettings: {
                RtmpOutputSettings: { Destination: { DestinationRefId: PROGRAM_DESTINATION_ID } },
              },
            },
          ],
        },
        {
          Name: "recording",
          OutputGroupSettings: {
            HlsGroupSettings: {
              Destination: { DestinationRefId: RECORDING_DESTINATION_ID },
              SegmentLength: 6,
            },
          },
          Outputs: [
            {
              OutputName: "recording_1080p30",
              VideoDescriptionName: "video_1080p30",
              AudioDescriptionNames: ["audio_aac"],
              OutputSettings: {
                HlsOutputSettings: {
                  NameModifier: "_1080p30",
                  HlsSettings: { StandardHlsSettings: { M3u8Settings: {} } },
                },
              },
            },
          ],
        },
      ],
    },
  };
}
