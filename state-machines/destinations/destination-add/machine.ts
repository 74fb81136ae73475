import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { MediaLiveTeardown } from "#state-machines/workflow/medialive-teardown.ts";
import { CHANNEL_NOT_READY_RETRY, INPUT_NOT_READY_RETRY } from "#state-machines/workflow/retry.ts";
import { EXECUTION, refs } from "#state-machines/workflow/state.ts";
import { taskState } from "#state-machines/workflow/task-state.ts";
import { WaitForState } from "#state-machines/workflow/wait-for-state.ts";
import { WAIT_CHANNEL_READY } from "#state-machines/workflow/waits.ts";
import type { TaskOutput } from "#tasks/define.ts";
import type * as claimDestination from "#tasks/destinations/claim-destination.ts";
import * as destinationResources from "#tasks/destinations/destination-resources.ts";
import * as ensureDestinationChannel from "#tasks/destinations/ensure-destination-channel.ts";
import * as ensureDestinationInput from "#tasks/destinations/ensure-destination-input.ts";
import * as settleDestination from "#tasks/destinations/settle-destination.ts";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import {
  claimDestinationState,
  compensateOnFailure,
  type DestinationStateBase,
  failState,
  unlessAlreadyDone,
} from "../steps.ts";
import { destinationAdd } from "./lifecycle.ts";

type AddState = DestinationStateBase & {
  readonly claim: TaskOutput<typeof claimDestination.task>;
  readonly input: TaskOutput<typeof ensureDestinationInput.task>;
  readonly channel: TaskOutput<typeof ensureDestinationChannel.task>;
  readonly settled: TaskOutput<typeof settleDestination.task>;
  readonly cleanup: TaskOutput<typeof destinationResources.task>;
};
const s = refs<AddState>();

/**
 * destination-add: claim the `creating` destination, create its MEDIACONNECT input on the
 * source's flow (MediaLive adds the flow output), create its SINGLE_PIPELINE channel once the
 * input exists (retried while the input is CREATING; the stream key is read from SSM inside that
 * task), wait until the channel is IDLE, and mark the destination `idle`: ready to start, billed nothing but MediaLive's
 * idle charges. Any failure deletes what exists (channel, then input) and records the error.
 */
export const destinationAddMachine = defineMachine(destinationAdd, (scope, fns) => {
  const destination = { destinationId: s.at("destinationId"), ...EXECUTION };
  const claim = claimDestinationState(scope, fns, "destination-add", s.at("destinationId"));

  const ensureInput = taskState(scope, fns, "Create Input", {
    task: ensureDestinationInput.task,
    payload: destination,
    resultPath: s.slot("input"),
  });
  const ensureChannel = taskState(scope, fns, "Create Channel", {
    task: ensureDestinationChannel.task,
    payload: destination,
    resultPath: s.slot("channel"),
    // A new input is CREATING for a few seconds: Create Channel looks again soon.
    extraRetries: [INPUT_NOT_READY_RETRY, CHANNEL_NOT_READY_RETRY],
  });
  const waitChannel = new WaitForState(scope, "WaitChannel", {
    spec: { ...WAIT_CHANNEL_READY, success: ["IDLE"] },
    fns,
    awaited: { describe: describeChannel.task, channelId: s.at("channel.channelId") },
  });
  const settle = taskState(scope, fns, "Mark Destination Idle", {
    task: settleDestination.task,
    payload: { destinationId: s.at("destinationId"), executionArn: EXECUTION.executionArn, to: "idle" },
    resultPath: s.slot("settled"),
  });
  const create = new sfn.Parallel(scope, "Create Destination", {
    outputPath: "$[0]",
    comment: "Every step that creates resources; a failure in any runs Clean Up.",
  }).branch(ensureInput.next(ensureChannel).next(waitChannel).next(settle));

  const failed = failState(scope, "Add Destination Failed");
  const teardown = new MediaLiveTeardown(scope, "Teardown", {
    fns,
    channelId: s.at("cleanup.channelId"),
    deleteInputId: s.at("cleanup.inputId"),
    titles: {
      channelChoice: "Channel Created?",
      deleteChannel: "Delete Created Channel",
      inputChoice: "Input Created?",
      deleteInput: "Delete Created Input",
      done: "Clean Up Done",
    },
  });
  const cleanUp = new sfn.Parallel(scope, "Clean Up", {
    outputPath: "$[0]",
    comment: "Compensation: delete what this execution created.",
  }).branch(
    taskState(scope, fns, "Find Created Resources", {
      task: destinationResources.task,
      payload: { destinationId: s.at("destinationId") },
      resultPath: s.slot("cleanup"),
    }).next(teardown),
  );
  compensateOnFailure(scope, fns, {
    work: create,
    cleanUp,
    lifecycle: "destination-add",
    destinationId: s.at("destinationId"),
    error: s.at("error"),
    cleanupError: s.at("cleanupError"),
    failed,
  });

  const done = new sfn.Pass(scope, "Destination Ready", {
    parameters: {
      destinationId: sfn.JsonPath.stringAt(s.path("destinationId")),
      status: "idle",
      channelId: sfn.JsonPath.stringAt(s.path("channel.channelId")),
    },
  });
  return claim.next(unlessAlreadyDone(scope, "Already Added", create.next(done)));
});
