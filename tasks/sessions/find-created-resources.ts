import * as z from "zod";
import { findChannelsByTags, findInputsByTags } from "#lib/aws/medialive.ts";
import { Tags } from "#lib/sessions/model.ts";
import { getSession } from "#lib/sessions/store.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

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

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "find-created-resources",
  entry: import.meta.url,
  input: FindCreatedResourcesInput,
  table: "read",
  grants: [{ actions: ["medialive:ListChannels", "medialive:ListInputs"], on: "*" }],
  run: findCreatedResources,
});

export const handler = task.handler;
