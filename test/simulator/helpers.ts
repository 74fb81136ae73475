import { IvsClient } from "@aws-sdk/client-ivs";
import { MediaConnectClient } from "@aws-sdk/client-mediaconnect";
import {
  type CreateChannelCommandInput,
  type EncoderSettings,
  MediaLiveClient,
  type OutputDestination,
} from "@aws-sdk/client-medialive";
import { SSMClient } from "@aws-sdk/client-ssm";
import { expect } from "vitest";

/** Fake static credentials: the simulator reads only the SigV4 scope, never verifies signatures. */
const credentials = { accessKeyId: "AKIDSIMULATORTEST", secretAccessKey: "not-a-secret" };

export function clients(url: string) {
  const common = { endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 };
  return {
    ml: new MediaLiveClient(common),
    ivs: new IvsClient(common),
    ssm: new SSMClient(common),
    mc: new MediaConnectClient(common),
  };
}

export interface AwsLikeError extends Error {
  $metadata: { httpStatusCode?: number };
}

/** Await a rejection and check the SDK surfaced the AWS error name and HTTP status. */
export async function expectAwsError(
  p: Promise<unknown>,
  name: string,
  status: number,
): Promise<AwsLikeError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${name}`).toBeInstanceOf(Error);
  const e = caught as AwsLikeError;
  expect(e.name).toBe(name);
  expect(e.$metadata?.httpStatusCode).toBe(status);
  return e;
}

/** Poll until `pred` holds (the simulator moves states with timers). */
export async function until<T>(fn: () => Promise<T>, pred: (t: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (pred(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function admin(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export function encoderSettings(destinationRefId = "dest1"): EncoderSettings {
  return {
    TimecodeConfig: { Source: "SYSTEMCLOCK" },
    AudioDescriptions: [
      { Name: "audio_1", AudioSelectorName: "default", CodecSettings: { AacSettings: { Bitrate: 128000 } } },
    ],
    VideoDescriptions: [
      {
        Name: "video_1080p",
        Width: 1920,
        Height: 1080,
        CodecSettings: {
          H264Settings: { Bitrate: 6000000, FramerateNumerator: 30, FramerateDenominator: 1 },
        },
      },
    ],
    OutputGroups: [
      {
        Name: "rtmp",
        OutputGroupSettings: { RtmpGroupSettings: { AuthenticationScheme: "COMMON", RestartDelay: 15 } },
        Outputs: [
          {
            OutputName: "youtube",
            VideoDescriptionName: "video_1080p",
            AudioDescriptionNames: ["audio_1"],
            OutputSettings: { RtmpOutputSettings: { Destination: { DestinationRefId: destinationRefId } } },
          },
        ],
      },
    ],
  };
}

export function rtmpDestination(
  settings: number,
  url = "rtmp://a.rtmp.youtube.com/live2",
  streamName = "stream-key-placeholder",
): OutputDestination {
  return {
    Id: "dest1",
    Settings: Array.from({ length: settings }, () => ({ Url: url, StreamName: streamName })),
  };
}

export function channelInput(
  inputId: string,
  overrides: Partial<CreateChannelCommandInput> = {},
): CreateChannelCommandInput {
  return {
    Name: "castflow-test",
    ChannelClass: "SINGLE_PIPELINE",
    InputAttachments: [{ InputId: inputId, InputAttachmentName: "main" }],
    Destinations: [rtmpDestination(1)],
    EncoderSettings: encoderSettings(),
    RoleArn: "arn:aws:iam::000000000000:role/MediaLiveAccessRole",
    Tags: { castflow: "test" },
    ...overrides,
  };
}
