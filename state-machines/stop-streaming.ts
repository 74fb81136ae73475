import { Duration } from "aws-cdk-lib";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { CHANNEL_NOT_READY_RETRY } from "../lib/retry.ts";
import { STOP_STREAMING_TIMEOUT_MINUTES, WAIT_CHANNEL_STOPPED } from "../lib/waits.ts";
import { Lifecycle, type LifecycleProps, type TaskFunctions } from "./lifecycle.ts";
import { claimState, EXECUTION, taskState } from "./task-state.ts";
import { WaitForState } from "./wait-for-state.ts";

const { stringAt } = sfn.JsonPath;

/**
 * stop-streaming: claim the session (live or error -> stopping), stop its channel, wait until
 * IDLE and mark the session idle. The channel and input are kept for the next go-live: a
 * stopped channel is not billed for encoding. A failure records the error on the session.
 *
 * Execution input: `{ "sessionId": string, "attempt": number }` (the go-live attempt it stops),
 * started by the API as `stop-streaming-<sessionId>-<attempt>`.
 */
export class StopStreaming extends Lifecycle {
  constructor(scope: Construct, id: string, props: LifecycleProps & { readonly stateMachineName: string }) {
    super(scope, id, props.stateMachineName, props, Duration.minutes(STOP_STREAMING_TIMEOUT_MINUTES));
  }

  protected build(t: TaskFunctions): sfn.IChainable {
    const claim = claimState(this, "Claim Session For Stop", {
      fn: t["claim-stop"],
      payload: { sessionId: stringAt("$.sessionId"), executionArn: EXECUTION.executionArn },
      failTitle: "Session Not Stoppable",
    });

    const stop = taskState(this, "Stop Channel", {
      fn: t["stop-channel"],
      payload: { channelId: stringAt("$.claim.channelId") },
      resultPath: sfn.JsonPath.DISCARD,
      extraRetries: [CHANNEL_NOT_READY_RETRY],
    });
    const waitStopped = new WaitForState(this, "WaitStopped", {
      spec: WAIT_CHANNEL_STOPPED,
      describe: t["describe-channel"],
      payload: { channelId: stringAt("$.claim.channelId") },
      subject: "Channel",
      idPath: "$.claim.channelId",
    });
    const markStopped = taskState(this, "Mark Session Stopped", {
      fn: t["mark-stopped"],
      payload: { sessionId: stringAt("$.sessionId"), executionArn: EXECUTION.executionArn },
      resultPath: "$.stopped",
    });
    const hasChannel = new sfn.Choice(this, "Has Channel?")
      .when(sfn.Condition.isString("$.claim.channelId"), stop.next(waitStopped).next(markStopped))
      .otherwise(markStopped);
    const stopSteps = new sfn.Parallel(this, "Take Channel Down", { outputPath: "$[0]" }).branch(hasChannel);

    const failed = new sfn.Fail(this, "Stop Streaming Failed", {
      errorPath: "$.error.Error",
      causePath: "$.error.Cause",
    });
    const record = taskState(this, "Record Failure", {
      fn: t["record-failure"],
      payload: {
        sessionId: stringAt("$.sessionId"),
        executionArn: EXECUTION.executionArn,
        lifecycle: "stop-streaming",
        error: stringAt("$.error"),
      },
      resultPath: sfn.JsonPath.DISCARD,
    })
      .addCatch(failed, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD })
      .next(failed);
    stopSteps.addCatch(record, { errors: ["States.ALL"], resultPath: "$.error" });

    const stopped = new sfn.Pass(this, "Session Stopped", {
      parameters: { sessionId: stringAt("$.sessionId"), stoppedAt: stringAt("$.stopped.stoppedAt") },
    });
    const alreadyStopped = new sfn.Succeed(this, "Already Stopped");
    return claim.next(
      new sfn.Choice(this, "Already Stopped?")
        .when(sfn.Condition.booleanEquals("$.claim.alreadyStopped", true), alreadyStopped)
        .otherwise(stopSteps.next(stopped)),
    );
  }
}
