import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { EXECUTION, present, refs } from "#state-machines/workflow/state.ts";
import { stopChannelAndWait } from "#state-machines/workflow/stop-channel-and-wait.ts";
import { claimState, taskState } from "#state-machines/workflow/task-state.ts";
import type { TaskOutput } from "#tasks/define.ts";
import * as claimStop from "#tasks/sessions/claim-stop.ts";
import * as markStopped from "#tasks/sessions/mark-stopped.ts";
import * as recordFailure from "#tasks/sessions/record-failure.ts";
import { stopStreaming } from "./lifecycle.ts";

/** stop-streaming's state, written once. */
type StopStreamingState = {
  readonly sessionId: string;
  readonly attempt: number;
  readonly claim: TaskOutput<typeof claimStop.task>;
  readonly stopped: TaskOutput<typeof markStopped.task>;
  readonly error: { readonly Error: string; readonly Cause?: string };
};
const s = refs<StopStreamingState>();

/**
 * stop-streaming: claim the session (live or error -> stopping), stop its channel, wait until
 * IDLE and mark the session idle. The channel and input are kept for the next go-live: a
 * stopped channel is not billed for encoding. A failure records the error on the session.
 */
export const stopStreamingMachine = defineMachine(stopStreaming, (scope, fns) => {
  const claim = claimState(scope, fns, "Claim Session For Stop", {
    task: claimStop.task,
    payload: { sessionId: s.at("sessionId"), executionArn: EXECUTION.executionArn },
    failTitle: "Session Not Stoppable",
  });

  // Only reached when the claim found a channel (Has Channel?).
  const stopAndWait = stopChannelAndWait(scope, "WaitStopped", {
    fns,
    channelId: present(s.at("claim.channelId")),
  });
  const markStoppedState = taskState(scope, fns, "Mark Session Stopped", {
    task: markStopped.task,
    payload: { sessionId: s.at("sessionId"), executionArn: EXECUTION.executionArn },
    resultPath: s.slot("stopped"),
  });
  const hasChannel = new sfn.Choice(scope, "Has Channel?")
    .when(sfn.Condition.isString(s.path("claim.channelId")), stopAndWait.next(markStoppedState))
    .otherwise(markStoppedState);
  const stopSteps = new sfn.Parallel(scope, "Take Channel Down", { outputPath: "$[0]" }).branch(hasChannel);

  const failed = new sfn.Fail(scope, "Stop Streaming Failed", {
    errorPath: "$.error.Error",
    causePath: "$.error.Cause",
  });
  const record = taskState(scope, fns, "Record Failure", {
    task: recordFailure.task,
    payload: {
      sessionId: s.at("sessionId"),
      executionArn: EXECUTION.executionArn,
      lifecycle: "stop-streaming",
      error: s.at("error"),
    },
    resultPath: sfn.JsonPath.DISCARD,
  })
    .addCatch(failed, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD })
    .next(failed);
  stopSteps.addCatch(record, { errors: ["States.ALL"], resultPath: s.path("error") });

  const stopped = new sfn.Pass(scope, "Session Stopped", {
    parameters: {
      sessionId: sfn.JsonPath.stringAt(s.path("sessionId")),
      stoppedAt: sfn.JsonPath.stringAt(s.path("stopped.stoppedAt")),
    },
  });
  const alreadyStopped = new sfn.Succeed(scope, "Already Stopped");
  return claim.next(
    new sfn.Choice(scope, "Already Stopped?")
      .when(sfn.Condition.booleanEquals(s.path("claim.alreadyStopped"), true), alreadyStopped)
      .otherwise(stopSteps.next(stopped)),
  );
});
