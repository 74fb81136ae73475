import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { TaskErrors } from "#lib/errors.ts";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { MediaLiveTeardown } from "#state-machines/workflow/medialive-teardown.ts";
import {
  CHANNEL_NOT_READY_RETRY,
  FLOW_NOT_READY_RETRY,
  INPUT_NOT_READY_RETRY,
  SHARED_CHANNEL_BUSY_RETRY,
} from "#state-machines/workflow/retry.ts";
import { startChannelAndWait } from "#state-machines/workflow/start-channel-and-wait.ts";
import { EXECUTION, present, refs } from "#state-machines/workflow/state.ts";
import { stopChannelAndWait } from "#state-machines/workflow/stop-channel-and-wait.ts";
import { claimState, taskState } from "#state-machines/workflow/task-state.ts";
import { WaitForState } from "#state-machines/workflow/wait-for-state.ts";
import {
  WAIT_CHANNEL_READY,
  WAIT_CHANNEL_WRITTEN,
  WAIT_PUSH_INPUT_DETACHED,
} from "#state-machines/workflow/waits.ts";
import type { TaskOutput } from "#tasks/define.ts";
import * as acquireFlow from "#tasks/destinations/acquire-flow.ts";
import * as releaseFlow from "#tasks/destinations/release-flow.ts";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import * as describeInput from "#tasks/medialive/describe-input.ts";
import * as claimSharedChannel from "#tasks/shared/claim-shared-channel.ts";
import * as ensureSharedInput from "#tasks/shared/ensure-shared-input.ts";
import * as finishSharedApply from "#tasks/shared/finish-shared-apply.ts";
import * as planSharedChannel from "#tasks/shared/plan-shared-channel.ts";
import * as planSharedCompensation from "#tasks/shared/plan-shared-compensation.ts";
import * as recordSharedFailure from "#tasks/shared/record-shared-failure.ts";
import * as settleSharedDestinations from "#tasks/shared/settle-shared-destinations.ts";
import * as writeSharedChannel from "#tasks/shared/write-shared-channel.ts";
import { waitForFlowActive } from "../steps.ts";
import { sharedChannelApply } from "./lifecycle.ts";

type CaughtError = { readonly Error: string; readonly Cause?: string };

type ApplyState = {
  readonly sourceId: string;
  readonly attempt: number;
  readonly claim: TaskOutput<typeof claimSharedChannel.task>;
  /** The pass counter, and whether to plan again (Finish Or Plan Again's answer). */
  readonly loop: TaskOutput<typeof finishSharedApply.task>;
  readonly plan: TaskOutput<typeof planSharedChannel.task>;
  readonly input: TaskOutput<typeof ensureSharedInput.task>;
  readonly compensation: TaskOutput<typeof planSharedCompensation.task>;
  readonly error: CaughtError;
  readonly cleanupError: CaughtError;
};
const s = refs<ApplyState>();

/**
 * shared-channel-apply: claim the source's shared channel, then pass after pass: plan from the
 * records (which destinations want to run; whether the channel's configured outputs differ), mark
 * the destinations a restart interrupts `restarting`, have the flow ACTIVE (a shared MediaConnect
 * source) and the channel's MEDIACONNECT input made, stop the channel if its outputs must change
 * (MediaLive edits IDLE channels only) or nobody wants it, write the outputs (create or update;
 * stream keys read from SSM inside that task only), start it and wait RUNNING, delete it once no
 * destination is left, release the flow when the channel no longer runs, settle every destination
 * the pass worked for, and let go of the channel only if no change arrived meanwhile: otherwise
 * plan again (bounded). A failure stops the channel unless it carries exactly settled, running
 * destinations, releases the flow, and records `error` on every destination involved: nothing
 * runs for nobody and nothing stays transitional.
 */
export const sharedChannelApplyMachine = defineMachine(sharedChannelApply, (scope, fns) => {
  const holder = { sourceId: s.at("sourceId"), executionArn: EXECUTION.executionArn };
  const pass = { ...holder, executionName: EXECUTION.executionName, iteration: s.at("loop.iteration") };
  const flowUser = { sourceId: s.at("sourceId"), destinationId: s.at("plan.flowUser") };
  const channelId = s.at("plan.channel.channelId");
  const planned = (field: "acquireFlow" | "needsInput" | "stopChannel" | "writeChannel" | "startChannel") =>
    sfn.Condition.booleanEquals(s.path(`plan.${field}`), true);

  const claim = claimState(scope, fns, "Claim Shared Channel", {
    task: claimSharedChannel.task,
    payload: holder,
    failTitle: "Shared Channel Not Claimable",
    // Another apply holds the channel: wait for it to let go (it carries every request counted
    // before it finishes), then plan once more, so this execution ends only when the change that
    // started it has been applied. Ending at once would tell the request's caller "done" early.
    // The Succeed below is reached only if the holder still runs four hours later.
    extraRetries: [SHARED_CHANNEL_BUSY_RETRY],
    busy: { error: TaskErrors.SharedChannelBusy, title: "Another Apply Holds The Channel" },
  });
  const firstPass = new sfn.Pass(scope, "First Pass", {
    result: sfn.Result.fromObject({ again: false, iteration: 0 }),
    resultPath: s.path("loop"),
  });

  // ----- one pass, built from its end -----
  const finish = taskState(scope, fns, "Finish Or Plan Again", {
    task: finishSharedApply.task,
    payload: { ...holder, requested: s.at("plan.requested"), iteration: s.at("loop.iteration") },
    resultPath: s.slot("loop"),
  });
  const settle = taskState(scope, fns, "Settle Destinations", {
    task: settleSharedDestinations.task,
    payload: {
      ...holder,
      settle: s.at("plan.settle"),
      channelId,
      forgetChannel: s.at("plan.deleteChannel"),
      forgetInputId: s.at("plan.teardown.inputId"),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  settle.next(finish);

  const release = taskState(scope, fns, "Release Flow", {
    task: releaseFlow.task,
    payload: flowUser,
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [FLOW_NOT_READY_RETRY],
  });
  const releaseStep = new sfn.Choice(scope, "Release Flow?")
    .when(sfn.Condition.booleanEquals(s.path("plan.releaseFlow"), true), release.next(settle))
    .otherwise(settle);

  const teardown = new MediaLiveTeardown(scope, "Teardown", {
    fns,
    channelId: s.at("plan.teardown.channelId"),
    deleteInputId: s.at("plan.teardown.inputId"),
    titles: {
      channelChoice: "Channel To Delete?",
      deleteChannel: "Delete Channel",
      inputChoice: "Shared Input To Delete?",
      deleteInput: "Delete Shared Input",
    },
    prefix: "Delete: ",
  });
  const waitPushInputFree = new WaitForState(scope, "WaitPushInput", {
    spec: WAIT_PUSH_INPUT_DETACHED,
    fns,
    awaited: { describe: describeInput.task, inputId: s.at("plan.teardown.detachInputId") },
  });
  const deleteStep = new sfn.Choice(scope, "No Destination Left?")
    .when(
      sfn.Condition.booleanEquals(s.path("plan.deleteChannel"), true),
      teardown.next(
        new sfn.Choice(scope, "Push Input To Free?")
          .when(
            sfn.Condition.isString(s.path("plan.teardown.detachInputId")),
            waitPushInputFree.next(releaseStep),
          )
          .otherwise(releaseStep),
      ),
    )
    .otherwise(releaseStep);

  const waitReady = new WaitForState(scope, "WaitReady", {
    spec: WAIT_CHANNEL_READY,
    fns,
    awaited: { describe: describeChannel.task, channelId },
  });
  const startAndWait = startChannelAndWait(scope, "WaitRunning", { fns, channelId: present(channelId) });
  const startStep = new sfn.Choice(scope, "Start Channel?")
    .when(
      sfn.Condition.and(planned("startChannel"), sfn.Condition.isString(s.path("plan.channel.channelId"))),
      waitReady.next(startAndWait).next(deleteStep),
    )
    .otherwise(deleteStep);

  const write = taskState(scope, fns, "Write Channel Outputs", {
    task: writeSharedChannel.task,
    payload: pass,
    resultPath: s.slot("plan.channel"),
    // A shared input this apply just created is CREATING for a few seconds: written again soon.
    extraRetries: [INPUT_NOT_READY_RETRY, CHANNEL_NOT_READY_RETRY],
  });
  const waitWritten = new WaitForState(scope, "WaitWritten", {
    spec: WAIT_CHANNEL_WRITTEN,
    fns,
    awaited: { describe: describeChannel.task, channelId },
  });
  const writeStep = new sfn.Choice(scope, "Write Channel?")
    .when(
      planned("writeChannel"),
      write.next(
        new sfn.Choice(scope, "Channel Written?")
          .when(sfn.Condition.isString(s.path("plan.channel.channelId")), waitWritten.next(startStep))
          .otherwise(startStep),
      ),
    )
    .otherwise(startStep);

  const stopStep = new sfn.Choice(scope, "Stop Channel First?")
    .when(
      planned("stopChannel"),
      stopChannelAndWait(scope, "WaitStopped", { fns, channelId: present(channelId) }).next(writeStep),
    )
    .otherwise(writeStep);

  const ensureInput = taskState(scope, fns, "Create Shared Input", {
    task: ensureSharedInput.task,
    payload: pass,
    resultPath: s.slot("input"),
  });
  const inputStep = new sfn.Choice(scope, "Create Input?")
    .when(planned("needsInput"), ensureInput.next(stopStep))
    .otherwise(stopStep);

  const acquire = taskState(scope, fns, "Acquire Flow", {
    task: acquireFlow.task,
    payload: flowUser,
    resultPath: sfn.JsonPath.DISCARD,
  });
  const waitFlow = waitForFlowActive(scope, fns, flowUser);
  const flowStep = new sfn.Choice(scope, "Flow Needed?")
    .when(planned("acquireFlow"), acquire.next(waitFlow).next(inputStep))
    .otherwise(inputStep);

  const plan = taskState(scope, fns, "Plan Changes", {
    task: planSharedChannel.task,
    payload: { ...holder, iteration: s.at("loop.iteration") },
    resultPath: s.slot("plan"),
  });
  const applyPass = new sfn.Parallel(scope, "Apply Changes", {
    outputPath: "$[0]",
    comment: "One pass: plan from the records and apply; a failure in any step runs Clean Up.",
  }).branch(plan.next(flowStep));

  // ----- failure: stop what nobody wants, release the flow, record the error -----
  const failed = new sfn.Fail(scope, "Apply Failed", {
    errorPath: "$.error.Error",
    causePath: "$.error.Cause",
  });
  const recordFailure = (title: string, withCleanupError: boolean) =>
    taskState(scope, fns, title, {
      task: recordSharedFailure.task,
      payload: {
        ...holder,
        error: s.at("error"),
        ...(withCleanupError ? { cleanupError: s.at("cleanupError") } : {}),
      },
      resultPath: sfn.JsonPath.DISCARD,
    })
      .addCatch(failed, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD })
      .next(failed);
  const cleanUpDone = new sfn.Pass(scope, "Clean Up Done", { resultPath: sfn.JsonPath.DISCARD });
  const releaseAfterFailure = new sfn.Choice(scope, "Release Flow After Failure?")
    .when(
      sfn.Condition.booleanEquals(s.path("compensation.releaseFlow"), true),
      taskState(scope, fns, "Release Flow After Failure", {
        task: releaseFlow.task,
        payload: { sourceId: s.at("sourceId"), destinationId: s.at("compensation.flowUser") },
        resultPath: sfn.JsonPath.DISCARD,
        extraRetries: [FLOW_NOT_READY_RETRY],
      }).next(cleanUpDone),
    )
    .otherwise(cleanUpDone);
  const cleanUp = new sfn.Parallel(scope, "Clean Up", {
    outputPath: "$[0]",
    comment: "Compensation: nothing keeps running for a destination that did not ask for it.",
  }).branch(
    taskState(scope, fns, "Plan Clean Up", {
      task: planSharedCompensation.task,
      payload: holder,
      resultPath: s.slot("compensation"),
    }).next(
      new sfn.Choice(scope, "Stop Channel After Failure?")
        .when(
          sfn.Condition.isString(s.path("compensation.stopChannelId")),
          stopChannelAndWait(scope, "CleanUpStopped", {
            fns,
            channelId: present(s.at("compensation.stopChannelId")),
            title: "Stop Channel After Failure",
            prefix: "Clean Up: ",
          }).next(releaseAfterFailure),
        )
        .otherwise(releaseAfterFailure),
    ),
  );
  cleanUp.addCatch(recordFailure("Record Failure After Failed Clean Up", true), {
    errors: ["States.ALL"],
    resultPath: s.path("cleanupError"),
  });
  applyPass.addCatch(cleanUp.next(recordFailure("Record Failure", false)), {
    errors: ["States.ALL"],
    resultPath: s.path("error"),
  });

  const done = new sfn.Pass(scope, "Shared Channel Settled", {
    parameters: {
      sourceId: sfn.JsonPath.stringAt(s.path("sourceId")),
      passes: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt(s.path("loop.iteration")), 1),
      running: sfn.JsonPath.stringAt(s.path("plan.run")),
    },
  });
  const again = new sfn.Choice(scope, "Plan Again?")
    .when(sfn.Condition.booleanEquals(s.path("loop.again"), true), applyPass)
    .otherwise(done);
  return claim.next(firstPass).next(applyPass).next(again);
});
