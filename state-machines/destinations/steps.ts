import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import type { DestinationLifecycleName } from "#lib/destinations/model.ts";
import { TaskErrors } from "#lib/errors.ts";
import { FLOW_NOT_READY_RETRY } from "#state-machines/workflow/retry.ts";
import { EXECUTION, type Ref } from "#state-machines/workflow/state.ts";
import { claimState, type TaskFunctions, taskState } from "#state-machines/workflow/task-state.ts";
import { awaitedBy, polledBy, WaitForState } from "#state-machines/workflow/wait-for-state.ts";
import { WAIT_FLOW_ACTIVE } from "#state-machines/workflow/waits.ts";
import * as awaitFlowActive from "#tasks/destinations/await-flow-active.ts";
import * as claimDestination from "#tasks/destinations/claim-destination.ts";
import * as recordDestinationFailure from "#tasks/destinations/record-destination-failure.ts";
import * as releaseFlowIfStoppedTask from "#tasks/destinations/release-flow-if-stopped.ts";
import * as awaitFlowActiveEvent from "#tasks/waits/await-flow-active.ts";

type CaughtError = { readonly Error: string; readonly Cause?: string };

/** The state fields every destination machine has (each adds its own). */
export interface DestinationStateBase {
  readonly destinationId: string;
  readonly attempt: number;
  readonly claim: { readonly alreadyDone: boolean };
  readonly error: CaughtError;
  readonly cleanupError: CaughtError;
}

/** Claim the destination; a destination another lifecycle holds ends in "Destination Busy" (a Succeed). */
export function claimDestinationState(
  scope: Construct,
  fns: TaskFunctions,
  lifecycle: DestinationLifecycleName,
  destinationId: Ref<string>,
): sfn.INextable & sfn.State {
  return claimState(scope, fns, "Claim Destination", {
    task: claimDestination.task,
    payload: { destinationId, executionArn: EXECUTION.executionArn, lifecycle },
    failTitle: "Destination Not Claimable",
    busy: { error: TaskErrors.DestinationBusy, title: "Destination Busy" },
  });
}

/** "<done>?" Choice: nothing to do when the claim found the destination already there. */
export function unlessAlreadyDone(scope: Construct, title: string, work: sfn.IChainable): sfn.Choice {
  return new sfn.Choice(scope, `${title}?`)
    .when(sfn.Condition.booleanEquals("$.claim.alreadyDone", true), new sfn.Succeed(scope, title))
    .otherwise(work);
}

/**
 * The failure path's end: record the error on the destination (status `error`, never left
 * transitional), then fail the execution with the original error. `withCleanupError` adds the
 * compensation's own error.
 */
export function recordFailure(
  scope: Construct,
  fns: TaskFunctions,
  props: {
    readonly lifecycle: DestinationLifecycleName;
    readonly destinationId: Ref<string>;
    readonly error: Ref<CaughtError>;
    readonly cleanupError?: Ref<CaughtError>;
    readonly title: string;
    readonly failed: sfn.Fail;
  },
): sfn.IChainable {
  return taskState(scope, fns, props.title, {
    task: recordDestinationFailure.task,
    payload: {
      destinationId: props.destinationId,
      executionArn: EXECUTION.executionArn,
      lifecycle: props.lifecycle,
      error: props.error,
      ...(props.cleanupError ? { cleanupError: props.cleanupError } : {}),
    },
    resultPath: sfn.JsonPath.DISCARD,
  })
    .addCatch(props.failed, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD })
    .next(props.failed);
}

export const failState = (scope: Construct, title: string) =>
  new sfn.Fail(scope, title, { errorPath: "$.error.Error", causePath: "$.error.Cause" });

/**
 * On a failure path: leave the source's flow if the destination's channel is not running (so no
 * flow stays ACTIVE for nobody), then `next` (recording the failure) whether or not that worked.
 */
export function releaseFlowIfStopped(
  scope: Construct,
  fns: TaskFunctions,
  props: {
    readonly sourceId: Ref<string>;
    readonly destinationId: Ref<string>;
    readonly channelId: Ref<string | null>;
    /** What comes next either way (recording the failure). */
    readonly next: sfn.IChainable;
  },
): sfn.IChainable {
  const release = taskState(scope, fns, "Release Flow If Channel Stopped", {
    task: releaseFlowIfStoppedTask.task,
    payload: { sourceId: props.sourceId, destinationId: props.destinationId, channelId: props.channelId },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [FLOW_NOT_READY_RETRY],
  });
  release.addCatch(props.next, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD });
  return release.next(props.next);
}

/**
 * The failure path of a lifecycle that compensates: `work` fails → `cleanUp` (undo what the
 * execution did) → Record Failure → Fail; a clean-up that fails itself records both errors.
 */
export function compensateOnFailure(
  scope: Construct,
  fns: TaskFunctions,
  props: {
    readonly work: sfn.Parallel;
    readonly cleanUp: sfn.Parallel;
    readonly lifecycle: DestinationLifecycleName;
    readonly destinationId: Ref<string>;
    readonly error: Ref<CaughtError>;
    readonly cleanupError: Ref<CaughtError>;
    readonly failed: sfn.Fail;
  },
): void {
  const common = {
    lifecycle: props.lifecycle,
    destinationId: props.destinationId,
    error: props.error,
    failed: props.failed,
  };
  props.cleanUp.addCatch(
    recordFailure(scope, fns, {
      ...common,
      cleanupError: props.cleanupError,
      title: "Record Failure After Failed Clean Up",
    }),
    { errors: ["States.ALL"], resultPath: props.cleanupError.path },
  );
  props.work.addCatch(props.cleanUp.next(recordFailure(scope, fns, { ...common, title: "Record Failure" })), {
    errors: ["States.ALL"],
    resultPath: props.error.path,
  });
}

/**
 * Wait For Flow Active for one user of a source's flow (a destination, or a shared channel's
 * user): each poll or round starts the flow if it is STANDBY and records the user's phase, so
 * the flow is never left running for nobody (tasks/destinations/await-flow-active.ts).
 */
export function waitForFlowActive(
  scope: Construct,
  fns: TaskFunctions,
  flowUser: { readonly sourceId: Ref<string>; readonly destinationId: Ref<string> },
): WaitForState {
  return new WaitForState(scope, "WaitFlow", {
    spec: WAIT_FLOW_ACTIVE,
    fns,
    awaited: polledBy(
      awaitFlowActive.task,
      flowUser,
      "Flow of source",
      flowUser.sourceId,
      awaitedBy(awaitFlowActiveEvent.task, flowUser),
    ),
  });
}
