import { Duration } from "aws-cdk-lib";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import {
  CHANNEL_RELEASE_CONFLICT_RETRY,
  IVS_CHANNEL_BUSY_RETRY,
  SESSION_BUSY_RETRY,
  TAKEOVER_PENDING_RETRY,
} from "../lib/retry.ts";
import { END_SESSION_TIMEOUT_MINUTES } from "../lib/waits.ts";
import { Lifecycle, type LifecycleProps, type TaskFunctions } from "./lifecycle.ts";
import { MediaLiveTeardown } from "./medialive-teardown.ts";
import { EXECUTION, taskState } from "./task-state.ts";

const { stringAt } = sfn.JsonPath;

/**
 * end-session: claim the session (waiting for a go-live or stop under way to settle), then, in
 * parallel and independently, tear down its MediaLive channel and input (stopping a live
 * broadcast) and delete its relay IVS channel; then hand the host's persistent channel back with
 * its statistics, only once MediaLive no longer pushes to it (legacy sessions: delete the
 * program channel). Each part reports
 * `{attempted, success, error}`; a part that fails after its retries does not stop the others.
 * The session is marked `ended` with those results; if any part failed the execution ends in
 * **Session End Incomplete** so it shows in the failure alarm, and running it again retries.
 *
 * Execution input: `{ "sessionId": string }`, started by the API as `end-session-<sessionId>-<n>`.
 */
export class EndSession extends Lifecycle {
  constructor(scope: Construct, id: string, props: LifecycleProps & { readonly stateMachineName: string }) {
    super(scope, id, props.stateMachineName, props, Duration.minutes(END_SESSION_TIMEOUT_MINUTES));
  }

  protected build(t: TaskFunctions): sfn.IChainable {
    const claim = taskState(this, "Claim Session For End", {
      fn: t["claim-end"],
      payload: { sessionId: stringAt("$.sessionId"), executionArn: EXECUTION.executionArn },
      resultPath: "$.claim",
      extraRetries: [SESSION_BUSY_RETRY, TAKEOVER_PENDING_RETRY],
    });
    claim.addCatch(
      new sfn.Fail(this, "Session Not Endable", { errorPath: "$.error.Error", causePath: "$.error.Cause" }),
      { errors: ["States.ALL"], resultPath: "$.error" },
    );

    const release = new sfn.Parallel(this, "Release Session Resources", {
      resultPath: "$.parts",
      comment: "Independent parts; each reports {part, attempted, success, error}.",
    })
      .branch(
        this.part(
          "MediaLive",
          "mediaLive",
          sfn.Condition.or(
            sfn.Condition.isString("$.claim.channelId"),
            sfn.Condition.isString("$.claim.inputId"),
          ),
          this.mediaLiveTeardown(t),
        ),
      )
      .branch(
        this.part(
          "Relay Channel",
          "relayChannel",
          sfn.Condition.isString("$.claim.relayChannelArn"),
          this.deleteIvs(t, "Delete Relay Channel", "$.claim.relayChannelArn"),
        ),
      );

    const record = taskState(this, "Record Session Ended", {
      fn: t["record-session-ended"],
      payload: {
        sessionId: stringAt("$.sessionId"),
        executionArn: EXECUTION.executionArn,
        parts: sfn.JsonPath.array(stringAt("$.parts[0]"), stringAt("$.parts[1]"), stringAt("$.channelPart")),
      },
      resultPath: "$.ended",
    });

    // The IVS channel the program went to comes last: handing a persistent channel to the host's
    // next session while the old MediaLive channel might still push to it would mix two streams.
    const channelPart = new sfn.Choice(this, "Persistent Or Program Channel?")
      .when(
        sfn.Condition.isString("$.claim.persistentChannelId"),
        this.part(
          "Persistent Channel",
          "persistentChannel",
          sfn.Condition.isString("$.claim.persistentChannelId"),
          taskState(this, "Release Persistent Channel", {
            fn: t["release-persistent-channel"],
            payload: {
              sessionId: stringAt("$.sessionId"),
              executionArn: EXECUTION.executionArn,
              mediaLiveStopped: stringAt("$.parts[0].success"),
            },
            resultPath: sfn.JsonPath.DISCARD,
            extraRetries: [CHANNEL_RELEASE_CONFLICT_RETRY],
          }),
          { resultPath: "$.channelPart", next: record },
        ),
      )
      .otherwise(
        this.part(
          "Program Channel",
          "programChannel",
          sfn.Condition.isString("$.claim.programChannelArn"),
          this.deleteIvs(t, "Delete Program Channel", "$.claim.programChannelArn"),
          { resultPath: "$.channelPart", next: record },
        ),
      );

    const outcome = new sfn.Choice(this, "All Parts Cleaned Up?")
      .when(sfn.Condition.booleanEquals("$.ended.allSucceeded", true), new sfn.Succeed(this, "Session Ended"))
      .otherwise(
        new sfn.Pass(this, "Describe Incomplete End", {
          parameters: {
            Error: "SessionEndIncomplete",
            "Cause.$": "States.Format('Parts that failed: {}', States.JsonToString($.ended.failedParts))",
          },
          resultPath: "$.failure",
        }).next(
          new sfn.Fail(this, "Session End Incomplete", {
            errorPath: "$.failure.Error",
            causePath: "$.failure.Cause",
          }),
        ),
      );

    record.next(outcome);
    return claim.next(
      new sfn.Choice(this, "Already Ended?")
        .when(
          sfn.Condition.booleanEquals("$.claim.alreadyEnded", true),
          new sfn.Succeed(this, "Nothing To End"),
        )
        .otherwise(release.next(channelPart)),
    );
  }

  /**
   * One part of the clean-up: skipped when there is nothing to clean (`needed` false), otherwise
   * run inside a Parallel whose Catch turns any failure (after the steps' own retries) into a
   * recorded result. Inside a Parallel branch the result is the branch's output; elsewhere it goes
   * to `resultPath` and the part continues with `next`.
   */
  private part(
    title: string,
    part: string,
    needed: sfn.Condition,
    steps: sfn.IChainable,
    placement?: { readonly resultPath: string; readonly next: sfn.IChainable },
  ): sfn.IChainable {
    const result = (name: string, attempted: boolean, success: boolean, withError: boolean) => {
      const pass = new sfn.Pass(this, `${title}: ${name}`, {
        parameters: {
          part,
          attempted,
          success,
          ...(withError ? { "error.$": "$.error" } : { error: null }),
        },
        ...(placement ? { resultPath: placement.resultPath } : {}),
      });
      if (placement) pass.next(placement.next);
      return pass;
    };
    const run = new sfn.Parallel(this, `Clean Up ${title}`, { resultPath: sfn.JsonPath.DISCARD }).branch(
      steps,
    );
    run.addCatch(result("Failed", true, false, true), { errors: ["States.ALL"], resultPath: "$.error" });
    return new sfn.Choice(this, `${title}?`)
      .when(needed, run.next(result("Done", true, true, false)))
      .otherwise(result("Not Needed", false, true, false));
  }

  private mediaLiveTeardown(t: TaskFunctions): sfn.IChainable {
    return new MediaLiveTeardown(this, "Teardown", {
      tasks: t,
      stopChannelIdPath: "$.claim.channelId",
      deleteChannelIdPath: "$.claim.channelId",
      deleteInputIdPath: "$.claim.inputId",
      titles: {
        channelChoice: "Delete Channel?",
        deleteChannel: "Delete Channel",
        inputChoice: "Delete Input?",
        deleteInput: "Delete Input",
        done: "MediaLive Torn Down",
      },
    });
  }

  private deleteIvs(t: TaskFunctions, title: string, arnPath: string): sfn.IChainable {
    return taskState(this, title, {
      fn: t["delete-ivs-channel"],
      payload: { channelArn: stringAt(arnPath) },
      resultPath: sfn.JsonPath.DISCARD,
      extraRetries: [IVS_CHANNEL_BUSY_RETRY],
    });
  }
}
