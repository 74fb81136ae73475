import { CreateChannelCommand, DeleteChannelCommand, IvsClient } from "@aws-sdk/client-ivs";
import { errorName } from "../lib/errors.ts";
import { logger } from "../lib/logger.ts";
import { Tags } from "../lib/session.ts";
import { ApiError } from "./http.ts";

/**
 * The API's IVS client keeps the SDK's own retries (IVS allows 5 CreateChannel/DeleteChannel
 * calls per second): a synchronous request has no state machine to retry it.
 */
let client: IvsClient | undefined;
const ivsClient = () => {
  client ??= new IvsClient({ maxAttempts: 4 });
  return client;
};

export interface CreatedIvsChannel {
  readonly arn: string;
  readonly ingestEndpoint: string;
  readonly playbackUrl: string;
}

/**
 * Creates an IVS channel tagged as castflow's. The stream key IVS returns with it is dropped:
 * castflow never stores, logs or returns keys; the task that configures MediaLive reads it.
 */
export async function createIvsChannel(
  name: string,
  role: "program" | "relay" | "persistent",
  tags: Record<string, string> = {},
): Promise<CreatedIvsChannel> {
  let channel: { arn?: string; ingestEndpoint?: string; playbackUrl?: string } | undefined;
  try {
    const res = await ivsClient().send(
      new CreateChannelCommand({
        name,
        latencyMode: "LOW",
        type: "STANDARD",
        tags: { [Tags.managedBy]: "castflow", [Tags.role]: role, ...tags },
      }),
    );
    channel = res.channel;
  } catch (err) {
    const code = errorName(err);
    logger.warn("IVS CreateChannel failed", { name, error: code });
    if (code === "ThrottlingException" || code === "ServiceQuotaExceededException") {
      throw new ApiError(503, "unavailable", "Streaming capacity is temporarily unavailable; retry shortly");
    }
    throw err;
  }
  if (!channel?.arn || !channel.ingestEndpoint || !channel.playbackUrl) {
    throw new Error("IVS CreateChannel returned an incomplete channel");
  }
  return { arn: channel.arn, ingestEndpoint: channel.ingestEndpoint, playbackUrl: channel.playbackUrl };
}

/** Deletes an IVS channel; answers the AWS error name on failure (for the caller to map). */
export async function deleteIvsChannel(arn: string): Promise<void> {
  try {
    await ivsClient().send(new DeleteChannelCommand({ arn }));
  } catch (err) {
    if (errorName(err) === "ResourceNotFoundException") return;
    throw err;
  }
}

/** Compensation inside a failed request: best effort, logged when it fails too. */
export async function deleteIvsChannelQuietly(arn: string, why: string): Promise<void> {
  await deleteIvsChannel(arn).catch((err: unknown) =>
    logger.error("Could not delete an IVS channel after a failed request", {
      channelArn: arn,
      why,
      error: errorName(err),
    }),
  );
}
