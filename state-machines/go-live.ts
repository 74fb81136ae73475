import { Duration } from "aws-cdk-lib";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { CHANNEL_NOT_READY_RETRY } from "../lib/retry.ts";
import { GO_LIVE_TIMEOUT_MINUTES, WAIT_CHANNEL_READY, WAIT_CHANNEL_RUNNING } from "../lib/waits.ts";
import { Lifecycle, type LifecycleProps, type TaskFunctions } from "./lifecycle.ts";
import { MediaLiveTeardown } from "./medialive-teardown.ts";
import { claimState, EXECUTION, taskState } from "./task-state.ts";
import { WaitForState } from "./wait-for-state.ts";

const { stringAt } = sfn.JsonPath;

/**
 * go-live: claim the session, get or create its RTMP input and MediaLive channel (recorded on
 * the session as soon as they exist), wait for IDLE, start, wait for RUNNING, confirm the IVS
 * program channel and mark the session live.
 *
 * Execution input: `{ "sessionId": string, "attempt": number }`, started by the API as
 * `go-live-<sessionId>-<attempt>`. Output: `{ sessionId, playbackUrl, channelId, startedAt }`.
 *
 * Any failure after the claim runs "Clean Up": stop the session's channel, delete what this
 * execution created (found by tag), and record the error on the session, so it never stays
 * `starting` and nothing this execution created is left behind.
 */
export class GoLive extends Lifecycle {
  constructor(scope: Construct, id: string, props: LifecycleProps & { readonly stateMachineName: string }) {
    super(scope, id, props.stateMachineName, props, Duration.minutes(GO_LIVE_TIMEOUT_MINUTES));
  }

  protected build(t: TaskFunctions): sfn.IChainable {
    const session = { sessionId: stringAt("$.sessionId"), ...EXECUTION };

    const claim = claimState(this, "Claim Session", {
      fn: t["claim-session"],
      payload: {
        sessionId: stringAt("$.sessionId"),
        executionArn: EXECUTION.executionArn,
        attempt: sfn.JsonPath.numberAt("$.attempt"),
      },
      failTitle: "Session Not Claimable",
    });

    const ensureInput = taskState(this, "Ensure Input", {
      fn: t["ensure-input"],
      payload: { ...session, inputId: stringAt("$.claim.inputId") },
      resultPath: "$.input",
    });
    const ensureChannel = taskState(this, "Ensure Channel", {
      fn: t["ensure-channel"],
      payload: {
        ...session,
        channelId: stringAt("$.claim.channelId"),
        inputId: stringAt("$.input.inputId"),
        programChannelArn: stringAt("$.claim.programChannelArn"),
      },
      resultPath: "$.channel",
      extraRetries: [CHANNEL_NOT_READY_RETRY],
    });
    const channelRef = { channelId: stringAt("$.channel.channelId") };
    const waitIdle = new WaitForState(this, "WaitReady", {
      spec: WAIT_CHANNEL_READY,
      describe: t["describe-channel"],
      payload: channelRef,
      subject: "Channel",
      idPath: "$.channel.channelId",
    });
    const start = taskState(this, "Start Channel", {
      fn: t["start-channel"],
      payload: channelRef,
      resultPath: "$.start",
      extraRetries: [CHANNEL_NOT_READY_RETRY],
    });
    const waitRunning = new WaitForState(this, "WaitRunning", {
      spec: WAIT_CHANNEL_RUNNING,
      describe: t["describe-channel"],
      payload: channelRef,
      subject: "Channel",
      idPath: "$.channel.channelId",
    });
    const confirm = taskState(this, "Confirm Program Channel", {
      fn: t["confirm-program-channel"],
      payload: { programChannelArn: stringAt("$.claim.programChannelArn") },
      resultPath: "$.program",
    });
    const markLive = taskState(this, "Mark Session Live", {
      fn: t["mark-live"],
      payload: {
        sessionId: stringAt("$.sessionId"),
        executionArn: EXECUTION.executionArn,
        playbackUrl: stringAt("$.program.playbackUrl"),
      },
      resultPath: "$.live",
    });

    const bringUp = new sfn.Parallel(this, "Bring Channel Up", {
      outputPath: "$[0]",
      comment: "Every step that creates or changes resources; a failure in any runs Clean Up.",
    }).branch(
      ensureInput
        .next(ensureChannel)
        .next(waitIdle)
        .next(start)
        .next(waitRunning)
        .next(confirm)
        .next(markLive),
    );

    const done = new sfn.Pass(this, "Session Live", {
      parameters: {
        sessionId: stringAt("$.sessionId"),
        playbackUrl: stringAt("$.live.playbackUrl"),
        channelId: stringAt("$.channel.channelId"),
        startedAt: stringAt("$.live.startedAt"),
      },
    });

    bringUp.addCatch(this.cleanUp(t), { errors: ["States.ALL"], resultPath: "$.error" });
    return claim.next(bringUp).next(done);
  }

  /** Compensation: stop, wait IDLE, delete channel, wait input DETACHED, delete input; then record the error. */
  private cleanUp(t: TaskFunctions): sfn.IChainable {
    const find = taskState(this, "Find Created Resources", {
      fn: t["find-created-resources"],
      payload: { sessionId: stringAt("$.sessionId"), ...EXECUTION },
      resultPath: "$.cleanup",
    });
    const teardown = new MediaLiveTeardown(this, "Teardown", {
      tasks: t,
      stopChannelIdPath: "$.cleanup.stopChannelId",
      deleteChannelIdPath: "$.cleanup.createdChannelId",
      deleteInputIdPath: "$.cleanup.createdInputId",
      titles: {
        channelChoice: "Channel Created?",
        deleteChannel: "Delete Created Channel",
        inputChoice: "Input Created?",
        deleteInput: "Delete Created Input",
        done: "Clean Up Done",
      },
    });

    const cleanUp = new sfn.Parallel(this, "Clean Up", {
      outputPath: "$[0]",
      comment: "Compensation: undo what this execution created, leave reused resources stopped.",
    }).branch(find.next(teardown));

    const failed = new sfn.Fail(this, "Go Live Failed", {
      errorPath: "$.error.Error",
      causePath: "$.error.Cause",
    });
    const record = (title: string, withCleanupError: boolean) =>
      taskState(this, title, {
        fn: t["record-failure"],
        payload: {
          sessionId: stringAt("$.sessionId"),
          executionArn: EXECUTION.executionArn,
          lifecycle: "go-live",
          error: stringAt("$.error"),
          ...(withCleanupError ? { cleanupError: stringAt("$.cleanupError") } : {}),
        },
        resultPath: sfn.JsonPath.DISCARD,
      })
        .addCatch(failed, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD })
        .next(failed);
    cleanUp.addCatch(record("Record Failure After Failed Clean Up", true), {
      errors: ["States.ALL"],
      resultPath: "$.cleanupError",
    });
    return cleanUp.next(record("Record Failure", false));
  }
}
