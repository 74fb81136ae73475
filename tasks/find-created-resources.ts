import * as z from "zod";
import { findChannelsByTags, findInputsByTags } from "../lib/medialive.ts";
import { Tags } from "../lib/session.ts";
import { getSession } from "../lib/session-store.ts";
import { type TaskContext, taskHandler } from "../lib/task.ts";

export const FindCreatedResourcesInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  executionName: z.string().min(1),
});
export type FindCreatedResourcesInput = z.infer<typeof FindCreatedResourcesInput>;
export interface FindCreatedResourcesOutput {
  /** The channel to stop: the session's channel, whoever created it (a failed go-live must not leave it running). */
  readonly stopChannelId: string | null;
  /** Resources this execution created, to delete. Found by tag, so a create whose answer was lost is found too. */
  readonly createdChannelId: string | null;
  readonly createdInputId: string | null;
}

/**
 * First step of go-live compensation. It works from MediaLive's tags and the session record,
 * not from the failed branch's state, so it finds what a crashed or lost step created.
 */
export async function findCreatedResources(
  input: FindCreatedResourcesInput,
  { signal }: TaskContext,
): Promise<FindCreatedResourcesOutput> {
  const created = { [Tags.sessionId]: input.sessionId, [Tags.createdBy]: input.executionName };
  const [channel] = await findChannelsByTags(created, signal);
  const [createdInput] = await findInputsByTags(created, signal);
  // The session's own channel is stopped only while this execution still owns the session.
  const session = await getSession(input.sessionId);
  const owned =
    session?.streaming.status === "starting" && session.streaming.executionArn === input.executionArn;
  return {
    stopChannelId: channel?.Id ?? (owned ? session?.mediaLive.channelId : undefined) ?? null,
    createdChannelId: channel?.Id ?? null,
    createdInputId: createdInput?.Id ?? null,
  };
}

export const handler = taskHandler("find-created-resources", FindCreatedResourcesInput, findCreatedResources);
