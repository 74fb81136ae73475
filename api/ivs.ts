import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateChannelCommand,
  DeleteChannelCommand,
  GetChannelCommand,
  IvsClient,
  paginateListChannels,
} from "@aws-sdk/client-ivs";
import { errorName } from "../lib/errors.ts";
import { logger } from "../lib/logger.ts";
import { TRANSIENT_AWS_ERRORS } from "../lib/retry.ts";
import { Tags } from "../lib/session.ts";
import { ApiError } from "./http.ts";

/**
 * One attempt per call: CreateChannel has no idempotency token, so a blind SDK retry after a lost
 * answer would create a second channel. createIvsChannel retries itself, looking first.
 */
let client: IvsClient | undefined;
const ivsClient = () => {
  client ??= new IvsClient({ maxAttempts: 1 });
  return client;
};

/** Tag carrying a per-request token, so a channel whose create answer was lost is recognised. */
const REQUEST_TAG = "castflow:request-id";
const ATTEMPTS = 4;

export interface CreatedIvsChannel {
  readonly arn: string;
  readonly ingestEndpoint: string;
  readonly playbackUrl: string;
}

const transient = (err: unknown) => (TRANSIENT_AWS_ERRORS as readonly string[]).includes(errorName(err));

/** The channel this very request created, if IVS has it (found by name, matched by request tag). */
async function findCreated(name: string, requestId: string): Promise<CreatedIvsChannel | undefined> {
  for await (const page of paginateListChannels({ client: ivsClient() }, { filterByName: name })) {
    const match = page.channels?.find((c) => c.name === name && c.tags?.[REQUEST_TAG] === requestId);
    if (match?.arn) {
      const { channel } = await ivsClient().send(new GetChannelCommand({ arn: match.arn }));
      if (channel?.arn && channel.ingestEndpoint && channel.playbackUrl) {
        return { arn: channel.arn, ingestEndpoint: channel.ingestEndpoint, playbackUrl: channel.playbackUrl };
      }
    }
  }
  return undefined;
}

/** Looks for the channel (a few tries: ListChannels is limited to 5 calls a second). */
async function lookUpCreated(
  name: string,
  requestId: string,
): Promise<{ answered: boolean; found?: CreatedIvsChannel }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await sleep(200 * 2 ** attempt);
    try {
      const found = await findCreated(name, requestId);
      return found ? { answered: true, found } : { answered: true };
    } catch {
      // throttled or failed: look again
    }
  }
  return { answered: false };
}

/**
 * Creates an IVS channel tagged as castflow's, exactly once: after a throttled or failed attempt
 * it first looks for the channel (the answer may have been lost after IVS created it), then
 * tries again with backoff. The stream key IVS returns is dropped: castflow never stores, logs
 * or returns keys; the task that configures MediaLive reads it from IVS.
 */
export async function createIvsChannel(
  name: string,
  role: "program" | "relay" | "persistent",
  tags: Record<string, string> = {},
): Promise<CreatedIvsChannel> {
  const requestId = randomUUID();
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(Math.random() * 200 * 2 ** attempt);
    try {
      const { channel } = await ivsClient().send(
        new CreateChannelCommand({
          name,
          latencyMode: "LOW",
          type: "STANDARD",
          tags: { [Tags.managedBy]: "castflow", [Tags.role]: role, [REQUEST_TAG]: requestId, ...tags },
        }),
      );
      if (!channel?.arn || !channel.ingestEndpoint || !channel.playbackUrl) {
        throw new Error("IVS CreateChannel returned an incomplete channel");
      }
      return { arn: channel.arn, ingestEndpoint: channel.ingestEndpoint, playbackUrl: channel.playbackUrl };
    } catch (err) {
      lastError = err;
      if (!transient(err)) break;
      logger.warn("IVS CreateChannel failed; checking whether it was created", {
        name,
        error: errorName(err),
      });
      const lookup = await lookUpCreated(name, requestId);
      if (lookup.found) return lookup.found;
      // Unknown whether the create went through: another create could make a duplicate.
      if (!lookup.answered) {
        logger.error("Could not tell whether IVS created the channel; not retrying", { name, requestId });
        break;
      }
    }
  }
  const code = errorName(lastError);
  if (transient(lastError) || code === "ServiceQuotaExceededException") {
    throw new ApiError(503, "unavailable", "Streaming capacity is temporarily unavailable; retry shortly");
  }
  throw lastError;
}

/** Deletes an IVS channel (gone counts as deleted); throws the AWS error otherwise. */
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
