import { type Destination, destinationKey, type Source, sourceKey } from "#lib/destinations/model.ts";

export const DEST_START_SM =
  "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-destination-start";
export const FLOW_ARN = "arn:aws:mediaconnect:us-east-1:000000000000:flow:1-abc-def:castflow-source-src1";

export function makeDestination(overrides: Partial<Destination> = {}): Destination {
  return {
    destinationId: "d1",
    ownerUserId: "host-1",
    name: "YouTube",
    platform: "youtube",
    sourceId: "src1",
    deliveryMode: "per-destination",
    rtmpUrl: "rtmp://a.rtmp.youtube.com/live2",
    preset: "1080p30",
    failoverEnabled: false,
    activeUrl: "primary",
    streamKeyParameter: "/castflow/stream-keys/d1/primary",
    status: "idle",
    mediaLive: { inputId: "1234567", channelId: "7654321" },
    metrics: { starts: 0, failovers: 0, runningSeconds: 0, reconnects: 0 },
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 3,
    ...overrides,
  };
}

export function makeSource(overrides: Partial<Source> = {}): Source {
  return {
    sourceId: "src1",
    name: "studio",
    protocol: "srt-listener",
    deliveryMode: "per-destination",
    priority: 1,
    allowedCidr: "0.0.0.0/0",
    status: "ready",
    flow: { flowArn: FLOW_ARN, sourceName: "castflow-source-src1-primary" },
    preferredSource: "primary",
    flowUsers: {},
    flowPhase: "active",
    flowUsage: { activeSeconds: 0 },
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 1,
    ...overrides,
  };
}

export const destinationItem = (d: Destination) => ({ ...destinationKey(d.destinationId), ...d });
export const sourceItem = (s: Source) => ({ ...sourceKey(s.sourceId), ...s });
