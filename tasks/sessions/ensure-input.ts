import {
  CreateInputCommand,
  CreateInputSecurityGroupCommand,
  DescribeInputSecurityGroupCommand,
  type Input,
} from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import {
  asQuotaError,
  findInputSecurityGroupsByTags,
  findInputsByTags,
  liveInput,
} from "#lib/aws/medialive.ts";
import { config } from "#lib/config.ts";
import { errorName, isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags, type RtmpEndpoint, Tags } from "#lib/sessions/model.ts";
import { getSession, ownedByGoLive, updateSession } from "#lib/sessions/store.ts";
import { ensureSharedResource, type SharedResource, withSharedResource } from "#lib/shared-resource.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const EnsureInputInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  executionName: z.string().min(1),
  /** The input already recorded on the session (from Claim Session). */
  inputId: z.string().nullable(),
});
export type EnsureInputInput = z.infer<typeof EnsureInputInput>;

export interface EnsureInputOutput {
  readonly inputId: string;
  readonly inputSecurityGroupId: string;
  /** True when this execution created the input (compensation deletes only those). */
  readonly created: boolean;
}

/** MediaLive refusing a request as such (not throttling or a fault of its own). */
const refused = (err: unknown) =>
  isNotFound(err) || ["BadRequestException", "UnprocessableEntityException"].includes(errorName(err));

const groupTags = () => ({ ...managedTags(), [Tags.role]: "session-ingest" });

/**
 * One input security group is shared by every session input: MediaLive allows 5 per region by
 * default (aws-facts.md), far fewer than sessions. CreateInputSecurityGroup has no token, so the
 * group is a shared resource kept to one by lib/shared-resource.ts.
 */
function sessionIngestGroup(executionName: string, signal: AbortSignal): SharedResource {
  return {
    key: { pk: "CONFIG", sk: "INPUT_SECURITY_GROUP#session-ingest" },
    what: "the shared input security group",
    exists: async (id) => {
      try {
        const res = await medialive().send(
          new DescribeInputSecurityGroupCommand({ InputSecurityGroupId: id }),
          { abortSignal: signal },
        );
        return res.State !== "DELETED";
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    find: async () => (await findInputSecurityGroupsByTags(groupTags(), signal))[0]?.Id,
    create: async () => {
      const res = await medialive()
        .send(
          new CreateInputSecurityGroupCommand({
            WhitelistRules: [{ Cidr: config().INPUT_ALLOWED_CIDR }],
            Tags: { ...groupTags(), [Tags.createdBy]: executionName },
          }),
          { abortSignal: signal },
        )
        .catch((err: unknown) => {
          throw asQuotaError(err, "the input security group");
        });
      const id = res.SecurityGroup?.Id;
      if (!id) throw new Error("CreateInputSecurityGroup returned no id");
      logger.info("Created the shared input security group", { inputSecurityGroupId: id });
      return id;
    },
  };
}

/** `rtmp://1.2.3.4:1935/castflow/<sessionId>` -> `{ url: "rtmp://1.2.3.4:1935/castflow", streamName: "<sessionId>" }`. */
export function rtmpEndpoints(input: Input): RtmpEndpoint[] {
  return (input.Destinations ?? []).flatMap((d) => {
    if (!d.Url) return [];
    const cut = d.Url.lastIndexOf("/");
    return [{ url: d.Url.slice(0, cut), streamName: d.Url.slice(cut + 1) }];
  });
}

/**
 * Gets or creates the session's RTMP_PUSH input and records it on the session before anything
 * waits, so a crash cannot lose it. Look-up order: the id on the session, then the session tag,
 * then create with a RequestId derived from the execution (a retried create returns the same input).
 */
export async function ensureInput(
  input: EnsureInputInput,
  { signal }: TaskContext,
): Promise<EnsureInputOutput> {
  const { sessionId, executionArn, executionName } = input;
  let found: Input | undefined = input.inputId ? await liveInput(input.inputId, signal) : undefined;
  if (!found) {
    // Found by tag after a lost write; never one reconcile retired from the session (idle TTL).
    const tagged = await findInputsByTags({ [Tags.sessionId]: sessionId }, signal);
    const retired = tagged.length ? (await getSession(sessionId))?.mediaLive.retired?.inputId : undefined;
    found = tagged.find((i) => i.Id !== retired);
  }
  // A found input keeps the group it was made with; a new one goes in the recorded shared group,
  // taken on trust (no call about the group on the usual path), checked only if MediaLive refuses.
  let inputSecurityGroupId = found?.SecurityGroups?.[0];
  if (!found) {
    const made = await withSharedResource(
      sessionIngestGroup(executionName, signal),
      executionName,
      (groupId) =>
        medialive()
          .send(
            new CreateInputCommand({
              Name: `castflow-${sessionId}-host`,
              Type: "RTMP_PUSH",
              Destinations: [{ StreamName: `castflow/${sessionId}` }],
              InputSecurityGroups: [groupId],
              RequestId: `${executionName}-input`,
              Tags: {
                ...managedTags(),
                [Tags.sessionId]: sessionId,
                [Tags.createdBy]: executionName,
              },
            }),
            { abortSignal: signal },
          )
          .catch((err: unknown) => {
            throw asQuotaError(err, "an input");
          }),
      refused,
    );
    inputSecurityGroupId = made.id;
    found = made.result.Input;
    logger.info("Created MediaLive input", { inputId: found?.Id });
  }
  inputSecurityGroupId ??= await ensureSharedResource(
    sessionIngestGroup(executionName, signal),
    executionName,
  );
  if (!found?.Id) throw new Error("MediaLive returned an input without an id");
  const saved = await updateSession(sessionId, {
    set: {
      "mediaLive.inputIds.host": found.Id,
      "mediaLive.inputSecurityGroupId": inputSecurityGroupId,
      "mediaLive.rtmpEndpoints.host": rtmpEndpoints(found),
    },
    condition: ownedByGoLive(executionArn),
  });
  if (!saved)
    throw new TaskError(
      TaskErrors.SessionClaimLost,
      `Session ${sessionId} is no longer owned by this go-live`,
    );
  return { inputId: found.Id, inputSecurityGroupId, created: found.Tags?.[Tags.createdBy] === executionName };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "ensure-input",
  entry: import.meta.url,
  input: EnsureInputInput,
  table: "write",
  grants: [
    {
      actions: [
        "medialive:CreateInput",
        "medialive:DescribeInput",
        "medialive:ListInputs",
        "medialive:CreateInputSecurityGroup",
        "medialive:DescribeInputSecurityGroup",
        "medialive:ListInputSecurityGroups",
        "medialive:CreateTags",
      ],
      on: "*",
    },
  ],
  run: ensureInput,
});

export const handler = task.handler;
