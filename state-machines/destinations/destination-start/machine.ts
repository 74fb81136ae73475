import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { FLOW_NOT_READY_RETRY } from "#state-machines/workflow/retry.ts";
import { startChannelAndWait } from "#state-machines/workflow/start-channel-and-wait.ts";
import { EXECUTION, present, refs } from "#state-machines/workflow/state.ts";
import { stopChannelAndWait } from "#state-machines/workflow/stop-channel-and-wait.ts";
import { taskState } from "#state-machines/workflow/task-state.ts";
import type { TaskOutput } from "#tasks/define.ts";
import * as acquireFlow from "#tasks/destinations/acquire-flow.ts";
import type * as claimDestination from "#tasks/destinations/claim-destination.ts";
import * as releaseFlow from "#tasks/destinations/release-flow.ts";
import * as settleDestination from "#tasks/destinations/settle-destination.ts";
import {
  claimDestinationState,
  compensateOnFailure,
  type DestinationStateBase,
  failState,
  unlessAlreadyDone,
  waitForFlowActive,
} from "../steps.ts";
import { destinationStart } from "./lifecycle.ts";

type StartState = DestinationStateBase & {
  readonly claim: TaskOutput<typeof claimDestination.task>;
  readonly flow: TaskOutput<typeof acquireFlow.task>;
  readonly settled: TaskOutput<typeof settleDestination.task>;
};
const s = refs<StartState>();

/**
 * destination-start: claim the destination, become a user of its source's flow and wait until the
 * flow is ACTIVE (the first user starts it), start the destination's own channel and wait until
 * it is RUNNING, then mark it `running`. Only this destination's channel is touched. A failure
 * stops the channel again, leaves the flow (stopping it if no other destination uses it) and
 * records the error: nothing is left running for a destination that is not `running`.
 */
export const destinationStartMachine = defineMachine(destinationStart, (scope, fns) => {
  const claim = claimDestinationState(scope, fns, "destination-start", s.at("destinationId"));
  const flowUser = { sourceId: s.at("claim.sourceId"), destinationId: s.at("destinationId") };
  const channelId = present(s.at("claim.channelId"));

  const acquire = taskState(scope, fns, "Acquire Flow", {
    task: acquireFlow.task,
    payload: flowUser,
    resultPath: s.slot("flow"),
  });
  const waitFlow = waitForFlowActive(scope, fns, flowUser);
  // No wait for the channel to be ready: destination-add, -stop and -update end with it IDLE, and
  // Start Channel's own retry waits out one still updating or stopping (ChannelNotReady).
  const startAndWait = startChannelAndWait(scope, "WaitRunning", { fns, channelId });
  const settle = taskState(scope, fns, "Mark Destination Running", {
    task: settleDestination.task,
    payload: { destinationId: s.at("destinationId"), executionArn: EXECUTION.executionArn, to: "running" },
    resultPath: s.slot("settled"),
  });
  const bringUp = new sfn.Parallel(scope, "Bring Destination Up", {
    outputPath: "$[0]",
    comment: "Every step that starts something; a failure in any runs Clean Up.",
  }).branch(acquire.next(waitFlow).next(startAndWait).next(settle));

  const failed = failState(scope, "Start Destination Failed");
  const release = taskState(scope, fns, "Release Flow", {
    task: releaseFlow.task,
    payload: flowUser,
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [FLOW_NOT_READY_RETRY],
  });
  const cleanUp = new sfn.Parallel(scope, "Clean Up", {
    outputPath: "$[0]",
    comment: "Compensation: stop this destination's channel and leave the flow.",
  }).branch(
    new sfn.Choice(scope, "Has Channel?")
      .when(
        sfn.Condition.isString(s.path("claim.channelId")),
        stopChannelAndWait(scope, "WaitStopped", { fns, channelId }).next(release),
      )
      .otherwise(release),
  );
  compensateOnFailure(scope, fns, {
    work: bringUp,
    cleanUp,
    lifecycle: "destination-start",
    destinationId: s.at("destinationId"),
    error: s.at("error"),
    cleanupError: s.at("cleanupError"),
    failed,
  });

  const done = new sfn.Pass(scope, "Destination Running", {
    parameters: {
      destinationId: sfn.JsonPath.stringAt(s.path("destinationId")),
      status: "running",
      startedAt: sfn.JsonPath.stringAt(s.path("settled.at")),
    },
  });
  return claim.next(unlessAlreadyDone(scope, "Already Running", bringUp.next(done)));
});
