import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { MediaLiveTeardown } from "#state-machines/workflow/medialive-teardown.ts";
import {
  CHANNEL_NOT_READY_RETRY,
  INPUT_NOT_READY_RETRY,
  SHARED_RESOURCE_PENDING_RETRY,
} from "#state-machines/workflow/retry.ts";
import { startChannelAndWait } from "#state-machines/workflow/start-channel-and-wait.ts";
import { EXECUTION, refs } from "#state-machines/workflow/state.ts";
import { stopChannelAndWait } from "#state-machines/workflow/stop-channel-and-wait.ts";
import { claimState, type TaskFunctions, taskState } from "#state-machines/workflow/task-state.ts";
import { WaitForState } from "#state-machines/workflow/wait-for-state.ts";
import { WAIT_CHANNEL_READY } from "#state-machines/workflow/waits.ts";
import * as confirmProgramChannel from "#tasks/channels/confirm-program-channel.ts";
import type { TaskOutput } from "#tasks/define.ts";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import * as claimSession from "#tasks/sessions/claim-session.ts";
import * as ensureChannel from "#tasks/sessions/ensure-channel.ts";
import * as ensureInput from "#tasks/sessions/ensure-input.ts";
import * as findCreatedResources from "#tasks/sessions/find-created-resources.ts";
import * as markLive from "#tasks/sessions/mark-live.ts";
import * as recordFailure from "#tasks/sessions/record-failure.ts";
import { goLive } from "./lifecycle.ts";

type CaughtError = { readonly Error: string; readonly Cause?: string };

/** go-live's state, written once: the execution input, then each task's result under its key. */
type GoLiveState = {
  readonly sessionId: string;
  readonly attempt: number;
  readonly claim: TaskOutput<typeof claimSession.task>;
  readonly program: TaskOutput<typeof confirmProgramChannel.task>;
  readonly input: TaskOutput<typeof ensureInput.task>;
  readonly channel: TaskOutput<typeof ensureChannel.task>;
  readonly live: TaskOutput<typeof markLive.task>;
  readonly cleanup: TaskOutput<typeof findCreatedResources.task>;
  readonly error: CaughtError;
  readonly cleanupError: CaughtError;
};
const s = refs<GoLiveState>();

/**
 * go-live: claim the session, confirm the IVS program channel (before anything billable
 * starts), get or create its RTMP input and MediaLive channel (recorded on the session as soon
 * as they exist), re-point a reused running channel at a rotated stream key (stop, update,
 * start: explicit in the history), wait for IDLE, start, wait for RUNNING and mark the session
 * live. Output: `{ sessionId, playbackUrl, channelId, startedAt }`.
 *
 * Any failure after the claim runs "Clean Up": stop the session's channel, delete what this
 * execution created (found by tag), and record the error on the session, so it never stays
 * `starting` and nothing this execution created is left behind.
 */
export const goLiveMachine = defineMachine(goLive, (scope, fns) => {
  const session = { sessionId: s.at("sessionId"), ...EXECUTION };

  const claim = claimState(scope, fns, "Claim Session", {
    task: claimSession.task,
    payload: { sessionId: s.at("sessionId"), executionArn: EXECUTION.executionArn, attempt: s.at("attempt") },
    failTitle: "Session Not Claimable",
  });

  const confirm = taskState(scope, fns, "Confirm Program Channel", {
    task: confirmProgramChannel.task,
    payload: { programChannelArn: s.at("claim.programChannelArn") },
    resultPath: s.slot("program"),
  });
  const ensureInputState = taskState(scope, fns, "Ensure Input", {
    task: ensureInput.task,
    payload: { ...session, inputId: s.at("claim.inputId") },
    resultPath: s.slot("input"),
    extraRetries: [SHARED_RESOURCE_PENDING_RETRY],
  });
  const ensure = (title: string) =>
    taskState(scope, fns, title, {
      task: ensureChannel.task,
      payload: {
        ...session,
        channelId: s.at("claim.channelId"),
        inputId: s.at("input.inputId"),
        programChannelArn: s.at("claim.programChannelArn"),
      },
      resultPath: s.slot("channel"),
      extraRetries: [INPUT_NOT_READY_RETRY, CHANNEL_NOT_READY_RETRY],
    });
  const channelId = s.at("channel.channelId");

  // A reused channel that is already running but pushes to a stale stream key: MediaLive edits
  // only IDLE channels, so stop it, update it (Ensure Channel again, now on an IDLE channel) and
  // let the start below bring it back.
  const repoint = stopChannelAndWait(scope, "WaitRepointStopped", {
    fns,
    channelId,
    title: "Stop Channel To Repoint",
    prefix: "Repoint: ",
  }).next(ensure("Repoint Program Destination"));

  const waitReady = new WaitForState(scope, "WaitReady", {
    spec: WAIT_CHANNEL_READY,
    fns,
    awaited: { describe: describeChannel.task, channelId },
    // What Ensure Channel (or the repoint's) just saw: a new channel CREATING, a reused one IDLE,
    // an updated one UPDATING (polled: MediaLive sends no event when an update ends).
    known: { state: s.at("channel.state"), at: s.at("channel.observedAt") },
  });
  const startAndWait = startChannelAndWait(scope, "WaitRunning", { fns, channelId: channelId });
  const markLiveState = taskState(scope, fns, "Mark Session Live", {
    task: markLive.task,
    payload: {
      sessionId: s.at("sessionId"),
      executionArn: EXECUTION.executionArn,
      playbackUrl: s.at("program.playbackUrl"),
    },
    resultPath: s.slot("live"),
  });
  waitReady.next(startAndWait).next(markLiveState);

  const bringUp = new sfn.Parallel(scope, "Bring Channel Up", {
    outputPath: "$[0]",
    comment: "Every step that creates or changes resources; a failure in any runs Clean Up.",
  }).branch(
    confirm
      .next(ensureInputState)
      .next(ensure("Ensure Channel"))
      .next(
        new sfn.Choice(scope, "Stale Program Destination?")
          .when(sfn.Condition.booleanEquals(s.path("channel.needsRepoint"), true), repoint.next(waitReady))
          .otherwise(waitReady),
      ),
  );

  const done = new sfn.Pass(scope, "Session Live", {
    parameters: {
      sessionId: sfn.JsonPath.stringAt(s.path("sessionId")),
      playbackUrl: sfn.JsonPath.stringAt(s.path("live.playbackUrl")),
      channelId: sfn.JsonPath.stringAt(s.path("channel.channelId")),
      startedAt: sfn.JsonPath.stringAt(s.path("live.startedAt")),
    },
  });

  bringUp.addCatch(cleanUp(scope, fns), { errors: ["States.ALL"], resultPath: s.path("error") });
  return claim.next(bringUp).next(done);
});

/** Compensation: stop, wait IDLE, delete channel, wait input DETACHED, delete input; then record the error. */
function cleanUp(scope: Construct, fns: TaskFunctions): sfn.IChainable {
  const find = taskState(scope, fns, "Find Created Resources", {
    task: findCreatedResources.task,
    payload: { sessionId: s.at("sessionId"), ...EXECUTION },
    resultPath: s.slot("cleanup"),
  });
  const teardown = new MediaLiveTeardown(scope, "Teardown", {
    fns,
    stopChannelId: s.at("cleanup.stopChannelId"),
    deleteChannelId: s.at("cleanup.createdChannelId"),
    deleteInputId: s.at("cleanup.createdInputId"),
    titles: {
      channelChoice: "Channel Created?",
      deleteChannel: "Delete Created Channel",
      inputChoice: "Input Created?",
      deleteInput: "Delete Created Input",
      done: "Clean Up Done",
    },
  });

  const cleanUpSteps = new sfn.Parallel(scope, "Clean Up", {
    outputPath: "$[0]",
    comment: "Compensation: undo what this execution created, leave reused resources stopped.",
  }).branch(find.next(teardown));

  const failed = new sfn.Fail(scope, "Go Live Failed", {
    errorPath: "$.error.Error",
    causePath: "$.error.Cause",
  });
  const record = (title: string, withCleanupError: boolean) =>
    taskState(scope, fns, title, {
      task: recordFailure.task,
      payload: {
        sessionId: s.at("sessionId"),
        executionArn: EXECUTION.executionArn,
        lifecycle: "go-live",
        error: s.at("error"),
        ...(withCleanupError ? { cleanupError: s.at("cleanupError") } : {}),
      },
      resultPath: sfn.JsonPath.DISCARD,
    })
      .addCatch(failed, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD })
      .next(failed);
  cleanUpSteps.addCatch(record("Record Failure After Failed Clean Up", true), {
    errors: ["States.ALL"],
    resultPath: s.path("cleanupError"),
  });
  return cleanUpSteps.next(record("Record Failure", false));
}
