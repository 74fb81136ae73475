import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { FLOW_NOT_READY_RETRY } from "#state-machines/workflow/retry.ts";
import { EXECUTION, present, refs } from "#state-machines/workflow/state.ts";
import { stopChannelAndWait } from "#state-machines/workflow/stop-channel-and-wait.ts";
import { taskState } from "#state-machines/workflow/task-state.ts";
import type { TaskOutput } from "#tasks/define.ts";
import type * as claimDestination from "#tasks/destinations/claim-destination.ts";
import * as releaseFlow from "#tasks/destinations/release-flow.ts";
import * as settleDestination from "#tasks/destinations/settle-destination.ts";
import {
  claimDestinationState,
  type DestinationStateBase,
  failState,
  recordFailure,
  releaseFlowIfStopped,
  unlessAlreadyDone,
} from "../steps.ts";
import { destinationStop } from "./lifecycle.ts";

type StopState = DestinationStateBase & {
  readonly claim: TaskOutput<typeof claimDestination.task>;
  readonly settled: TaskOutput<typeof settleDestination.task>;
};
const s = refs<StopState>();

/**
 * destination-stop: claim the destination, stop its channel and wait until IDLE, leave the
 * source's flow (the last destination out stops it: STANDBY is free), mark it `idle`. The
 * channel and input stay for the next start. A failure records the error; the flow is kept
 * while the channel may still run.
 */
export const destinationStopMachine = defineMachine(destinationStop, (scope, fns) => {
  const claim = claimDestinationState(scope, fns, "destination-stop", s.at("destinationId"));
  const release = taskState(scope, fns, "Release Flow", {
    task: releaseFlow.task,
    payload: { sourceId: s.at("claim.sourceId"), destinationId: s.at("destinationId") },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [FLOW_NOT_READY_RETRY],
  });
  const settle = taskState(scope, fns, "Mark Destination Idle", {
    task: settleDestination.task,
    payload: { destinationId: s.at("destinationId"), executionArn: EXECUTION.executionArn, to: "idle" },
    resultPath: s.slot("settled"),
  });
  const stop = new sfn.Parallel(scope, "Take Destination Down", { outputPath: "$[0]" }).branch(
    new sfn.Choice(scope, "Has Channel?")
      .when(
        sfn.Condition.isString(s.path("claim.channelId")),
        stopChannelAndWait(scope, "WaitStopped", { fns, channelId: present(s.at("claim.channelId")) }).next(
          release,
        ),
      )
      .otherwise(release),
  );
  release.next(settle);
  const failed = failState(scope, "Stop Destination Failed");
  stop.addCatch(
    releaseFlowIfStopped(scope, fns, {
      sourceId: s.at("claim.sourceId"),
      destinationId: s.at("destinationId"),
      channelId: s.at("claim.channelId"),
      next: recordFailure(scope, fns, {
        lifecycle: "destination-stop",
        destinationId: s.at("destinationId"),
        error: s.at("error"),
        failed,
        title: "Record Failure",
      }),
    }),
    { errors: ["States.ALL"], resultPath: s.path("error") },
  );
  const done = new sfn.Pass(scope, "Destination Stopped", {
    parameters: {
      destinationId: sfn.JsonPath.stringAt(s.path("destinationId")),
      status: "idle",
      stoppedAt: sfn.JsonPath.stringAt(s.path("settled.at")),
    },
  });
  return claim.next(unlessAlreadyDone(scope, "Already Stopped", stop.next(done)));
});
