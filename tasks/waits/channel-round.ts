import * as z from "zod";
import { awaitState } from "#lib/waits.ts";
import { defineTask, type Grant, type TaskContext } from "#tasks/define.ts";

/** What every round of an event-driven wait is given, beside what it waits on (lib/waits.ts). */
export const ROUND_FIELDS = {
  /** `$$.Task.Token` of the wait state (`.waitForTaskToken`). */
  taskToken: z.string().min(1),
  /** States in which the wait goes on; any other ends it (the state machine decides what it means). */
  pending: z.array(z.string().min(1)).min(1),
};

/** A round of a wait on a MediaLive channel. */
export const ChannelRoundInput = z.object({ ...ROUND_FIELDS, channelId: z.string().min(1) });

/**
 * A task that is the first round of a channel wait: it registers the wait, then runs `action`
 * (the polling mode's task: start, stop or delete, with its grants), so the events of this very
 * action find the registration. A settled state completes the wait at once; the action throwing
 * `ChannelNotReady` is retried by the state.
 */
export function channelActionRound(spec: {
  readonly name: string;
  /** The declaring module's `import.meta.url` (it exports `handler`). */
  readonly entry: string;
  readonly action: {
    readonly grants: readonly Grant[];
    run(input: { channelId: string }, ctx: TaskContext): Promise<{ readonly state: string }>;
  };
}) {
  return defineTask({
    name: spec.name,
    entry: spec.entry,
    input: ChannelRoundInput,
    table: "waits",
    grants: [...spec.action.grants, { actions: ["states:SendTaskSuccess"], on: "state-machines" }],
    run: (input, ctx) =>
      awaitState(
        { kind: "channel", id: input.channelId, token: input.taskToken, pending: input.pending },
        async () => (await spec.action.run({ channelId: input.channelId }, ctx)).state,
      ),
  });
}
