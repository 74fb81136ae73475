import type { UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { resetConfig } from "#lib/config.ts";
import { logger } from "#lib/logger.ts";
import { type Session, sessionKey } from "#lib/sessions/model.ts";
import type { TaskContext } from "#tasks/define.ts";

export const TABLE = "test-table";
export const RECORDING_BUCKET = "castflow-test-recordings";
export const ROLE_ARN = "arn:aws:iam::000000000000:role/castflow-medialive-test";
export const GO_LIVE_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-go-live";
export const STOP_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-stop-streaming";
export const END_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-end-session";
export const PROGRAM_CHANNEL_ARN = "arn:aws:ivs:us-east-1:000000000000:channel/prog1";

export const executionArnOf = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;

/** Environment every task and the API read through `config()`; call in beforeEach. */
export function useTestEnv(): void {
  process.env.TABLE_NAME = TABLE;
  process.env.AWS_REGION = "us-east-1";
  process.env.RECORDING_BUCKET = RECORDING_BUCKET;
  process.env.MEDIALIVE_ROLE_ARN = ROLE_ARN;
  process.env.STATE_MACHINE_ARNS = JSON.stringify({
    "go-live": GO_LIVE_SM,
    "stop-streaming": STOP_SM,
    "end-session": END_SM,
  });
  process.env.LEGACY_PROGRAM_CHANNELS = "true";
  resetConfig();
  logger.setLogLevel("SILENT");
}

export const taskContext = (): TaskContext => ({ signal: new AbortController().signal });

/** Enough of a Lambda context for middy (early timeout) and the Powertools logger. */
export const lambdaContext = {
  functionName: "castflow-test",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:castflow-test",
  memoryLimitInMB: "256",
  awsRequestId: "00000000-0000-0000-0000-000000000000",
  logGroupName: "/aws/lambda/castflow-test",
  logStreamName: "test",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
} as Context;

/** A named AWS-style error, as the SDK's deserializers produce them. */
export const awsError = (name: string, message = name, httpStatusCode = 400) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

interface SessionOverrides {
  readonly sessionId?: string;
  readonly hostUserId?: string;
  readonly mediaLive?: Partial<Session["mediaLive"]>;
  readonly streaming?: Partial<Session["streaming"]>;
}

export function makeSession(overrides: SessionOverrides = {}): Session {
  return {
    sessionId: overrides.sessionId ?? "s1",
    hostUserId: overrides.hostUserId ?? "user-host",
    showId: "show-1",
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    version: 1,
    status: "active",
    ivs: {
      programChannelArn: PROGRAM_CHANNEL_ARN,
      programIngestEndpoint: "abc123.global-contribute.live-video.net",
      programPlaybackUrl: "https://abc123.us-east-1.playback.live-video.net/api/video/v1/prog1.m3u8",
    },
    mediaLive: { inputIds: {}, rtmpEndpoints: {}, ...overrides.mediaLive },
    streaming: { isLive: false, status: "idle", attempt: 0, totalStreamedSeconds: 0, ...overrides.streaming },
  };
}

/** The stored item (key attributes included) for a GetCommand/UpdateCommand answer. */
export const item = (session: Session) => ({ ...sessionKey(session.sessionId), ...session });

export interface DecodedUpdate {
  /** Attribute path -> value, placeholders resolved ("streaming.status" -> "starting"). */
  readonly set: Record<string, unknown>;
  readonly remove: string[];
  /** The condition with names and values substituted, values JSON-encoded. */
  readonly condition: string;
}

/** Reads an UpdateCommand's expressions back into paths and values, so tests assert intent. */
export function decodeUpdate(input: UpdateCommandInput): DecodedUpdate {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const path = (expr: string) =>
    expr
      .trim()
      .split(".")
      .map((p) => names[p] ?? p)
      .join(".");
  const expression = input.UpdateExpression ?? "";
  const setPart = /SET (.*?)(?: REMOVE |$)/.exec(expression)?.[1] ?? "";
  const removePart = / ?REMOVE (.*)$/.exec(expression)?.[1] ?? "";
  const set: Record<string, unknown> = {};
  for (const assignment of setPart.split(",").filter((s) => s.trim())) {
    const [lhs, rhs] = assignment.split("=");
    set[path(lhs ?? "")] = values[(rhs ?? "").trim()];
  }
  const remove = removePart
    .split(",")
    .filter((s) => s.trim())
    .map(path);
  const condition = (input.ConditionExpression ?? "")
    .replace(/#[A-Za-z0-9_]+/g, (n) => names[n] ?? n)
    .replace(/:[A-Za-z0-9_]+/g, (v) => JSON.stringify(values[v]));
  return { set, remove, condition };
}

/** Decodes every recorded UpdateCommand call (`ddb.commandCalls(UpdateCommand)`). */
export const decodeUpdates = (
  calls: readonly { readonly args: readonly [{ readonly input: UpdateCommandInput }, ...unknown[]] }[],
) => calls.map((c) => decodeUpdate(c.args[0].input));
