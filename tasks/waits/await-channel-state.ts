import * as z from "zod";
import { channelState } from "#lib/aws/medialive.ts";
import { awaitState } from "#lib/waits.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { ChannelRoundInput } from "./channel-round.ts";

export const AwaitChannelStateInput = ChannelRoundInput.extend({
  /** The wait's round, from 1. */
  round: z.number().int().min(1),
  /**
   * The state the step before the wait saw (e.g. CREATING from the CreateChannel it made): the
   * first round takes it, or the channel's latest event since `knownAt`, instead of describing
   * the channel again.
   */
  known: z.string().min(1).optional(),
  /** When that step began to look at the channel (ISO 8601); required with `known`. */
  knownAt: z.string().min(1).optional(),
}).refine((i) => (i.known === undefined) === (i.knownAt === undefined), {
  message: "must be given with known, and only with it",
  path: ["knownAt"],
});
export type AwaitChannelStateInput = z.infer<typeof AwaitChannelStateInput>;

/**
 * One round of an event-driven channel wait (lib/waits.ts): registers the state's token under the
 * channel, then describes the channel once (the first round, given what the step before saw,
 * takes that and the channel's latest event instead); a state outside `pending` completes the wait at once,
 * otherwise the channel's next "MediaLive Channel State Change" event does
 * (`wake-channel-waits`), or the state's TimeoutSeconds starts another round.
 */
export async function awaitChannelState(input: AwaitChannelStateInput, { signal }: TaskContext) {
  const { known, knownAt } = input;
  return awaitState(
    { kind: "channel", id: input.channelId, token: input.taskToken, pending: input.pending },
    () => channelState(input.channelId, signal),
    input.round === 1 && known !== undefined && knownAt !== undefined
      ? { state: known, at: knownAt }
      : undefined,
  );
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "await-channel-state",
  entry: import.meta.url,
  input: AwaitChannelStateInput,
  table: "waits",
  grants: [
    { actions: ["medialive:DescribeChannel"], on: "medialive" },
    { actions: ["states:SendTaskSuccess"], on: "state-machines" },
  ],
  run: awaitChannelState,
});

export const handler = task.handler;
