import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { MediaLiveTeardown } from "#state-machines/workflow/medialive-teardown.ts";
import {
  CHANNEL_RELEASE_CONFLICT_RETRY,
  IVS_CHANNEL_BUSY_RETRY,
  SESSION_BUSY_RETRY,
  TAKEOVER_PENDING_RETRY,
} from "#state-machines/workflow/retry.ts";
import { EXECUTION, present, type Ref, refs } from "#state-machines/workflow/state.ts";
import { type TaskFunctions, taskState } from "#state-machines/workflow/task-state.ts";
import * as deleteIvsChannel from "#tasks/channels/delete-ivs-channel.ts";
import * as releasePersistentChannel from "#tasks/channels/release-persistent-channel.ts";
import type { TaskOutput } from "#tasks/define.ts";
import * as claimEnd from "#tasks/sessions/claim-end.ts";
import * as recordSessionEnded from "#tasks/sessions/record-session-ended.ts";
import { endSession } from "./lifecycle.ts";

type Part = recordSessionEnded.CleanupPart;

/** end-session's state, written once. */
type EndSessionState = {
  readonly sessionId: string;
  readonly claim: TaskOutput<typeof claimEnd.task>;
  /** Results of the MediaLive and relay parts (a Parallel's output, in branch order). */
  readonly parts: readonly [Part, Part];
  readonly channelPart: Part;
  readonly ended: TaskOutput<typeof recordSessionEnded.task>;
  readonly error: { readonly Error: string; readonly Cause?: string };
};
const s = refs<EndSessionState>();

/**
 * end-session: claim the session (waiting for a go-live or stop under way to settle), then, in
 * parallel and independently, tear down its MediaLive channel and input (stopping a live
 * broadcast) and delete its relay IVS channel; then hand the host's persistent channel back with
 * its statistics, only once MediaLive no longer pushes to it (legacy sessions: delete the
 * program channel). Each part reports `{attempted, success, error}`; a part that fails after its
 * retries does not stop the others. The session is marked `ended` with those results; if any
 * part failed the execution ends in **Session End Incomplete** so it shows in the failure alarm,
 * and running it again retries.
 */
export const endSessionMachine = defineMachine(endSession, (scope, fns) => {
  const claim = taskState(scope, fns, "Claim Session For End", {
    task: claimEnd.task,
    payload: { sessionId: s.at("sessionId"), executionArn: EXECUTION.executionArn },
    resultPath: s.slot("claim"),
    extraRetries: [SESSION_BUSY_RETRY, TAKEOVER_PENDING_RETRY],
  });
  claim.addCatch(
    new sfn.Fail(scope, "Session Not Endable", { errorPath: "$.error.Error", causePath: "$.error.Cause" }),
    { errors: ["States.ALL"], resultPath: s.path("error") },
  );

  const release = new sfn.Parallel(scope, "Release Session Resources", {
    resultPath: s.path("parts"),
    comment: "Independent parts; each reports {part, attempted, success, error}.",
  })
    .branch(
      part(
        scope,
        "MediaLive",
        "mediaLive",
        sfn.Condition.or(
          sfn.Condition.isString(s.path("claim.channelId")),
          sfn.Condition.isString(s.path("claim.inputId")),
        ),
        new MediaLiveTeardown(scope, "Teardown", {
          fns,
          channelId: s.at("claim.channelId"),
          deleteInputId: s.at("claim.inputId"),
          titles: {
            channelChoice: "Delete Channel?",
            deleteChannel: "Delete Channel",
            inputChoice: "Delete Input?",
            deleteInput: "Delete Input",
            done: "MediaLive Torn Down",
          },
        }),
      ),
    )
    .branch(
      part(
        scope,
        "Relay Channel",
        "relayChannel",
        sfn.Condition.isString(s.path("claim.relayChannelArn")),
        deleteIvs(scope, fns, "Delete Relay Channel", s.at("claim.relayChannelArn")),
      ),
    );

  const record = taskState(scope, fns, "Record Session Ended", {
    task: recordSessionEnded.task,
    payload: {
      sessionId: s.at("sessionId"),
      executionArn: EXECUTION.executionArn,
      parts: [s.at("parts.0"), s.at("parts.1"), s.at("channelPart")],
    },
    resultPath: s.slot("ended"),
  });

  // The IVS channel the program went to comes last: handing a persistent channel to the host's
  // next session while the old MediaLive channel might still push to it would mix two streams.
  const channelPart = new sfn.Choice(scope, "Persistent Or Program Channel?")
    .when(
      sfn.Condition.isString(s.path("claim.persistentChannelId")),
      part(
        scope,
        "Persistent Channel",
        "persistentChannel",
        sfn.Condition.isString(s.path("claim.persistentChannelId")),
        taskState(scope, fns, "Release Persistent Channel", {
          task: releasePersistentChannel.task,
          payload: {
            sessionId: s.at("sessionId"),
            executionArn: EXECUTION.executionArn,
            mediaLiveStopped: s.at("parts.0.success"),
          },
          resultPath: sfn.JsonPath.DISCARD,
          extraRetries: [CHANNEL_RELEASE_CONFLICT_RETRY],
        }),
        { resultPath: s.path("channelPart"), next: record },
      ),
    )
    .otherwise(
      part(
        scope,
        "Program Channel",
        "programChannel",
        sfn.Condition.isString(s.path("claim.programChannelArn")),
        deleteIvs(scope, fns, "Delete Program Channel", s.at("claim.programChannelArn")),
        { resultPath: s.path("channelPart"), next: record },
      ),
    );

  const outcome = new sfn.Choice(scope, "All Parts Cleaned Up?")
    .when(
      sfn.Condition.booleanEquals(s.path("ended.allSucceeded"), true),
      new sfn.Succeed(scope, "Session Ended"),
    )
    .otherwise(
      new sfn.Pass(scope, "Describe Incomplete End", {
        parameters: {
          Error: "SessionEndIncomplete",
          "Cause.$": `States.Format('Parts that failed: {}', States.JsonToString(${s.path("ended.failedParts")}))`,
        },
        resultPath: "$.failure",
      }).next(
        new sfn.Fail(scope, "Session End Incomplete", {
          errorPath: "$.failure.Error",
          causePath: "$.failure.Cause",
        }),
      ),
    );

  record.next(outcome);
  return claim.next(
    new sfn.Choice(scope, "Already Ended?")
      .when(
        sfn.Condition.booleanEquals(s.path("claim.alreadyEnded"), true),
        new sfn.Succeed(scope, "Nothing To End"),
      )
      .otherwise(release.next(channelPart)),
  );
});

/**
 * One part of the clean-up: skipped when there is nothing to clean (`needed` false), otherwise
 * run inside a Parallel whose Catch turns any failure (after the steps' own retries) into a
 * recorded result. Inside a Parallel branch the result is the branch's output; elsewhere it goes
 * to `resultPath` and the part continues with `next`.
 */
function part(
  scope: Construct,
  title: string,
  name: Part["part"],
  needed: sfn.Condition,
  steps: sfn.IChainable,
  placement?: { readonly resultPath: string; readonly next: sfn.IChainable },
): sfn.IChainable {
  const result = (outcome: string, attempted: boolean, success: boolean, withError: boolean) => {
    const pass = new sfn.Pass(scope, `${title}: ${outcome}`, {
      parameters: {
        part: name,
        attempted,
        success,
        ...(withError ? { "error.$": "$.error" } : { error: null }),
      },
      ...(placement ? { resultPath: placement.resultPath } : {}),
    });
    if (placement) pass.next(placement.next);
    return pass;
  };
  const run = new sfn.Parallel(scope, `Clean Up ${title}`, { resultPath: sfn.JsonPath.DISCARD }).branch(
    steps,
  );
  run.addCatch(result("Failed", true, false, true), { errors: ["States.ALL"], resultPath: "$.error" });
  return new sfn.Choice(scope, `${title}?`)
    .when(needed, run.next(result("Done", true, true, false)))
    .otherwise(result("Not Needed", false, true, false));
}

function deleteIvs(
  scope: Construct,
  fns: TaskFunctions,
  title: string,
  channelArn: Ref<string | null>,
): sfn.IChainable {
  return taskState(scope, fns, title, {
    task: deleteIvsChannel.task,
    payload: { channelArn: present(channelArn) },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [IVS_CHANNEL_BUSY_RETRY],
  });
}
