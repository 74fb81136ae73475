import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { MediaLiveTeardown } from "#state-machines/workflow/medialive-teardown.ts";
import { FLOW_NOT_READY_RETRY } from "#state-machines/workflow/retry.ts";
import { EXECUTION, refs } from "#state-machines/workflow/state.ts";
import { taskState } from "#state-machines/workflow/task-state.ts";
import type { TaskOutput } from "#tasks/define.ts";
import type * as claimDestination from "#tasks/destinations/claim-destination.ts";
import * as deleteStreamKeys from "#tasks/destinations/delete-stream-keys.ts";
import * as destinationResources from "#tasks/destinations/destination-resources.ts";
import * as releaseFlow from "#tasks/destinations/release-flow.ts";
import * as settleDestination from "#tasks/destinations/settle-destination.ts";
import {
  claimDestinationState,
  type DestinationStateBase,
  failState,
  recordFailure,
  unlessAlreadyDone,
} from "../steps.ts";
import { destinationDelete } from "./lifecycle.ts";

type DeleteState = DestinationStateBase & {
  readonly claim: TaskOutput<typeof claimDestination.task>;
  readonly resources: TaskOutput<typeof destinationResources.task>;
  readonly settled: TaskOutput<typeof settleDestination.task>;
};
const s = refs<DeleteState>();

/**
 * destination-delete: claim the destination, stop its channel if it runs, delete the channel,
 * wait until the input is detached and delete it (MediaLive removes the flow output it made for
 * the input), leave the source's flow (stopping it if this was its last user), delete the stream
 * key parameters, and mark the record `deleted` (kept for history and metrics). Every step is
 * idempotent: a failed delete records the error and can be run again.
 */
export const destinationDeleteMachine = defineMachine(destinationDelete, (scope, fns) => {
  const claim = claimDestinationState(scope, fns, "destination-delete", s.at("destinationId"));
  const find = taskState(scope, fns, "Find Resources", {
    task: destinationResources.task,
    payload: { destinationId: s.at("destinationId") },
    resultPath: s.slot("resources"),
  });
  const teardown = new MediaLiveTeardown(scope, "Teardown", {
    fns,
    channelId: s.at("resources.channelId"),
    deleteInputId: s.at("resources.inputId"),
    titles: {
      channelChoice: "Has Channel?",
      deleteChannel: "Delete Channel",
      inputChoice: "Has Input?",
      deleteInput: "Delete Input",
    },
  });
  const release = taskState(scope, fns, "Release Flow", {
    task: releaseFlow.task,
    payload: { sourceId: s.at("claim.sourceId"), destinationId: s.at("destinationId") },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [FLOW_NOT_READY_RETRY],
  });
  const keys = taskState(scope, fns, "Delete Stream Keys", {
    task: deleteStreamKeys.task,
    payload: { destinationId: s.at("destinationId") },
    resultPath: sfn.JsonPath.DISCARD,
  });
  const settle = taskState(scope, fns, "Mark Destination Deleted", {
    task: settleDestination.task,
    payload: { destinationId: s.at("destinationId"), executionArn: EXECUTION.executionArn, to: "deleted" },
    resultPath: s.slot("settled"),
  });
  const remove = new sfn.Parallel(scope, "Delete Destination", { outputPath: "$[0]" }).branch(
    find.next(teardown).next(release).next(keys).next(settle),
  );
  const failed = failState(scope, "Delete Destination Failed");
  remove.addCatch(
    recordFailure(scope, fns, {
      lifecycle: "destination-delete",
      destinationId: s.at("destinationId"),
      error: s.at("error"),
      failed,
      title: "Record Failure",
    }),
    { errors: ["States.ALL"], resultPath: s.path("error") },
  );
  const done = new sfn.Pass(scope, "Destination Deleted", {
    parameters: {
      destinationId: sfn.JsonPath.stringAt(s.path("destinationId")),
      status: "deleted",
      deletedAt: sfn.JsonPath.stringAt(s.path("settled.at")),
    },
  });
  return claim.next(unlessAlreadyDone(scope, "Already Deleted", remove.next(done)));
});
