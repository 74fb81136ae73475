import { App, Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { describe, expect, it } from "vitest";
import { MediaLiveTeardown } from "#state-machines/workflow/medialive-teardown.ts";
import { EXECUTION, jsonPath, refs } from "#state-machines/workflow/state.ts";
import { type TaskFunctions, taskState } from "#state-machines/workflow/task-state.ts";
import { awaitedBy, polledBy, WaitForState } from "#state-machines/workflow/wait-for-state.ts";
import { WAIT_CHANNEL_READY } from "#state-machines/workflow/waits.ts";
import type { TaskOutput } from "#tasks/define.ts";
import * as awaitFlowActive from "#tasks/destinations/await-flow-active.ts";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import * as startChannel from "#tasks/medialive/start-channel.ts";
import * as claimSession from "#tasks/sessions/claim-session.ts";
import * as markLive from "#tasks/sessions/mark-live.ts";
import * as recordSessionEnded from "#tasks/sessions/record-session-ended.ts";
import * as awaitFlowActiveEvent from "#tasks/waits/await-flow-active.ts";

type State = {
  readonly sessionId: string;
  readonly attempt: number;
  readonly claim: TaskOutput<typeof claimSession.task>;
  readonly live: TaskOutput<typeof markLive.task>;
  readonly part: recordSessionEnded.CleanupPart;
};
const s = refs<State>();

/** A scope with stand-in functions, enough to build states (`context`: the app's, e.g. `castflow:waits`). */
function scope(context: Record<string, unknown> = {}): { stack: Stack; fns: TaskFunctions } {
  const stack = new Stack(new App({ context }), "Contract");
  const fn = lambda.Function.fromFunctionArn(stack, "Fn", "arn:aws:lambda:us-east-1:000000000000:function:f");
  return { stack, fns: { functionFor: () => fn } };
}

/**
 * The contract is checked by `tsc` (npm run typecheck, in CI): each `@ts-expect-error` below must
 * be an error, or the type-check fails with "Unused '@ts-expect-error' directive". The function
 * is never called; the test beside it only shows the well-typed states build.
 */
function illTypedStates(): void {
  const { stack, fns } = scope();
  taskState(stack, fns, "Unknown Field", {
    task: startChannel.task,
    // @ts-expect-error start-channel takes no `sessionId`
    payload: { channelId: s.at("sessionId"), sessionId: s.at("sessionId") },
    resultPath: "$.x",
  });
  taskState(stack, fns, "Wrong Type", {
    task: claimSession.task,
    payload: {
      sessionId: s.at("sessionId"),
      executionArn: EXECUTION.executionArn,
      // @ts-expect-error `attempt` is a number; `sessionId` is a string
      attempt: s.at("sessionId"),
    },
    resultPath: "$.x",
  });
  taskState(stack, fns, "Missing Field", {
    task: markLive.task,
    // @ts-expect-error mark-live needs `playbackUrl`
    payload: { sessionId: s.at("sessionId"), executionArn: EXECUTION.executionArn },
    resultPath: "$.x",
  });
  // @ts-expect-error claim-session returns no `playbackUrl`
  s.at("claim.playbackUrl");
  // A wait on any task is checked the same way.
  // @ts-expect-error await-flow-active needs `destinationId`
  polledBy(awaitFlowActive.task, { sourceId: s.at("sessionId") }, "Flow of source", s.at("sessionId"));
  polledBy(
    // @ts-expect-error mark-live does not answer a `state` to poll
    markLive.task,
    { sessionId: s.at("sessionId"), executionArn: EXECUTION.executionArn, playbackUrl: s.at("sessionId") },
    "x",
    s.at("sessionId"),
  );
  // An event-driven wait's round must be a round task: one that takes the token and calls back.
  // @ts-expect-error start-channel takes no `taskToken` and never calls SendTaskSuccess
  awaitedBy(startChannel.task, { channelId: s.at("sessionId") });
  // @ts-expect-error a round of await-flow-active-event needs `destinationId` too
  awaitedBy(awaitFlowActiveEvent.task, { sourceId: s.at("sessionId") });
  taskState(stack, fns, "Wrong Slot", {
    task: startChannel.task,
    payload: { channelId: s.at("sessionId") },
    // @ts-expect-error start-channel's result is not mark-live's: it cannot go where `live` is read
    resultPath: s.slot("live"),
  });
  taskState(stack, fns, "Mixed Array", {
    task: recordSessionEnded.task,
    payload: {
      sessionId: s.at("sessionId"),
      executionArn: EXECUTION.executionArn,
      // @ts-expect-error an array is all references or all literals (States.Array takes references)
      parts: [{ part: "mediaLive", attempted: false, success: true }, s.at("part")],
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  // @ts-expect-error the state has no `channel` result
  s.at("channel.channelId");
}
void illTypedStates;

/** A teardown of the claimed channel and input, as the tests below build it. */
const teardownOf = (fns: TaskFunctions) => ({
  fns,
  channelId: s.at("claim.channelId"),
  deleteInputId: s.at("claim.inputId"),
  titles: {
    channelChoice: "Delete Channel?",
    deleteChannel: "Delete Channel",
    inputChoice: "Delete Input?",
    deleteInput: "Delete Input",
  },
});

describe("the payload contract", () => {
  it("renders refs as JSONPath selections and literals as they are", () => {
    const { stack, fns } = scope();
    const state = taskState(stack, fns, "Mark Session Live", {
      task: markLive.task,
      payload: {
        sessionId: s.at("sessionId"),
        executionArn: EXECUTION.executionArn,
        playbackUrl: s.at("live.playbackUrl"),
      },
      resultPath: s.slot("live"),
    });
    const rendered = stack.resolve(state.toStateJson()) as {
      Parameters: Record<string, unknown>;
    };
    expect(rendered.Parameters).toEqual({
      "sessionId.$": "$.sessionId",
      "executionArn.$": "$$.Execution.Id",
      "playbackUrl.$": "$.live.playbackUrl",
    });
    expect(jsonPath("parts.0.success")).toBe("$.parts[0].success");
  });

  it("lets one fragment be used twice in a machine when each use has its own prefix", () => {
    const build = (context: Record<string, unknown>) => {
      const { stack, fns } = scope(context);
      const teardown = (id: string, prefix: string) =>
        new MediaLiveTeardown(stack, id, { ...teardownOf(fns), prefix });
      const chain = teardown("First", "First: ")
        .next(teardown("Second", "Second: "))
        .next(new sfn.Succeed(stack, "Done"));
      const machine = new sfn.StateMachine(stack, "Twice", {
        definitionBody: sfn.DefinitionBody.fromChainable(chain),
      });
      const definition = stack.resolve((machine.node.defaultChild as sfn.CfnStateMachine).definitionString);
      return JSON.stringify(definition);
    };

    // Event mode (the default): the waits' rounds, and the first rounds (stop, delete), per prefix.
    const events = build({});
    for (const prefix of ["First: ", "Second: "]) {
      for (const name of [
        "Stop Channel",
        "Wait For Channel Stopped: Await Event",
        "Delete Channel",
        "Wait For Channel Deleted: Await Event",
        "Delete Input",
      ]) {
        expect(events).toContain(`\\"${prefix}${name}\\"`);
      }
    }
    // Polling: the polling loops, per prefix.
    const polling = build({ "castflow:waits": "polling" });
    expect(polling).toContain("First: Stop Channel");
    expect(polling).toContain("Second: Wait For Channel Stopped: Poll");
    expect(polling).toContain("Second: Wait For Input Detached: Poll");
  });

  it("refuses a wait whose spec makes a state both a success and a pending one", () => {
    const { stack, fns } = scope();
    const spec = { ...WAIT_CHANNEL_READY, pending: [...WAIT_CHANNEL_READY.pending, "IDLE"] };
    expect(
      () =>
        new WaitForState(stack, "Overlap", {
          spec,
          fns,
          awaited: { describe: describeChannel.task, channelId: s.at("claim.channelId") },
        }),
    ).toThrow("Wait For Channel Ready: IDLE cannot be both a success and a pending state");
  });

  it("refuses a teardown that nothing follows: its last Choice would have no default", () => {
    const { stack, fns } = scope();
    const teardown = new MediaLiveTeardown(stack, "Alone", teardownOf(fns));
    new sfn.StateMachine(stack, "AloneMachine", {
      definitionBody: sfn.DefinitionBody.fromChainable(teardown),
    });
    expect(() => App.of(stack)?.synth()).toThrow('Nothing follows "Delete Input?"');
  });
});
