import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { CHANNEL_NOT_READY_RETRY } from "#state-machines/workflow/retry.ts";
import { startChannelAndWait } from "#state-machines/workflow/start-channel-and-wait.ts";
import { EXECUTION, present, refs } from "#state-machines/workflow/state.ts";
import { taskState } from "#state-machines/workflow/task-state.ts";
import { WaitForState } from "#state-machines/workflow/wait-for-state.ts";
import { WAIT_CHANNEL_STOPPED, WAIT_CHANNEL_UPDATED } from "#state-machines/workflow/waits.ts";
import type { TaskOutput } from "#tasks/define.ts";
import type * as claimDestination from "#tasks/destinations/claim-destination.ts";
import * as settleDestination from "#tasks/destinations/settle-destination.ts";
import * as updateDestinationChannel from "#tasks/destinations/update-destination-channel.ts";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import * as stopChannel from "#tasks/medialive/stop-channel.ts";
import {
  claimDestinationState,
  type DestinationStateBase,
  failState,
  recordFailure,
  releaseFlowIfStopped,
  unlessAlreadyDone,
} from "../steps.ts";
import { destinationUpdate } from "./lifecycle.ts";

type UpdateState = DestinationStateBase & {
  readonly claim: TaskOutput<typeof claimDestination.task>;
  readonly settled: TaskOutput<typeof settleDestination.task>;
  readonly stop: TaskOutput<typeof stopChannel.task>;
};
const s = refs<UpdateState>();

/**
 * destination-update: the API has already stored the new settings (name, URLs, keys in SSM,
 * preset, active URL); this writes them into the destination's own channel. MediaLive edits
 * IDLE channels only, so a running destination is stopped, updated and started again, and only
 * it: no other destination shares its channel. It ends `running` if it ran, else `idle`.
 */
export const destinationUpdateMachine = defineMachine(destinationUpdate, (scope, fns) => {
  const claim = claimDestinationState(scope, fns, "destination-update", s.at("destinationId"));
  const channelId = present(s.at("claim.channelId"));
  const wasRunning = sfn.Condition.booleanEquals(s.path("claim.wasRunning"), true);

  const update = taskState(scope, fns, "Update Channel", {
    task: updateDestinationChannel.task,
    payload: { destinationId: s.at("destinationId"), executionArn: EXECUTION.executionArn },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [CHANNEL_NOT_READY_RETRY],
  });
  const waitUpdated = new WaitForState(scope, "WaitUpdated", {
    spec: WAIT_CHANNEL_UPDATED,
    fns,
    awaited: { describe: describeChannel.task, channelId },
  });
  const startAndWait = startChannelAndWait(scope, "WaitRunning", {
    fns,
    channelId: channelId,
    title: "Start Channel Again",
  });
  const settle = (to: "idle" | "running") =>
    taskState(scope, fns, to === "running" ? "Mark Destination Running" : "Mark Destination Idle", {
      task: settleDestination.task,
      payload: { destinationId: s.at("destinationId"), executionArn: EXECUTION.executionArn, to },
      resultPath: s.slot("settled"),
    });
  // Always stop first (a no-op on an IDLE channel): the claim cannot see a channel left running by
  // an aborted start, and MediaLive edits IDLE channels only.
  const stopFirst = taskState(scope, fns, "Stop Channel To Update", {
    task: stopChannel.task,
    payload: { channelId },
    resultPath: s.slot("stop"),
    extraRetries: [CHANNEL_NOT_READY_RETRY],
  });
  const waitStopped = new WaitForState(scope, "WaitStopped", {
    spec: WAIT_CHANNEL_STOPPED,
    fns,
    awaited: { describe: describeChannel.task, channelId },
  });
  const ranBefore = sfn.Condition.or(wasRunning, sfn.Condition.booleanEquals(s.path("stop.stopped"), true));
  const afterUpdate = new sfn.Choice(scope, "Start It Again?")
    .when(ranBefore, startAndWait.next(settle("running")))
    .otherwise(settle("idle"));
  const work = new sfn.Parallel(scope, "Apply Settings", { outputPath: "$[0]" }).branch(
    stopFirst.next(waitStopped).next(update),
  );
  update.next(waitUpdated).next(afterUpdate);
  const failed = failState(scope, "Update Destination Failed");
  work.addCatch(
    releaseFlowIfStopped(scope, fns, {
      sourceId: s.at("claim.sourceId"),
      destinationId: s.at("destinationId"),
      channelId: s.at("claim.channelId"),
      next: recordFailure(scope, fns, {
        lifecycle: "destination-update",
        destinationId: s.at("destinationId"),
        error: s.at("error"),
        failed,
        title: "Record Failure",
      }),
    }),
    { errors: ["States.ALL"], resultPath: s.path("error") },
  );
  const done = new sfn.Pass(scope, "Destination Updated", {
    parameters: {
      destinationId: sfn.JsonPath.stringAt(s.path("destinationId")),
      status: sfn.JsonPath.stringAt(s.path("settled.status")),
    },
  });
  return claim.next(unlessAlreadyDone(scope, "Nothing To Update", work.next(done)));
});
