import {
  AddFlowSourcesCommand,
  CreateFlowCommand,
  DeleteFlowCommand,
  DescribeFlowCommand,
  DescribeFlowSourceMetadataCommand,
  type DescribeFlowSourceMetadataCommandOutput,
  type Flow,
  type Protocol,
  paginateListFlows,
  RemoveFlowSourceCommand,
  StartFlowCommand,
  StopFlowCommand,
  UpdateFlowCommand,
} from "@aws-sdk/client-mediaconnect";
import { errorName, isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { mediaconnect } from "./clients.ts";

/** The flow, or undefined when MediaConnect no longer knows it. */
export async function describeFlow(flowArn: string, signal?: AbortSignal): Promise<Flow | undefined> {
  try {
    const res = await mediaconnect().send(new DescribeFlowCommand({ FlowArn: flowArn }), {
      abortSignal: signal,
    });
    return res.Flow;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A flow's status; "DELETED" when it is gone. */
export async function flowStatus(flowArn: string, signal?: AbortSignal): Promise<string> {
  return (await describeFlow(flowArn, signal))?.Status ?? "DELETED";
}

/** Starts a STANDBY flow; a flow already on its way up is fine. Returns the status after the call. */
export async function startFlow(flowArn: string, signal?: AbortSignal): Promise<string> {
  try {
    const res = await mediaconnect().send(new StartFlowCommand({ FlowArn: flowArn }), {
      abortSignal: signal,
    });
    return res.Status ?? "STARTING";
  } catch (err) {
    if (errorName(err) !== "BadRequestException") throw err;
    const now = await flowStatus(flowArn, signal);
    if (now === "ACTIVE" || now === "STARTING") return now;
    throw err;
  }
}

/** Stops a flow; one already stopping or in STANDBY is fine (free: MediaConnect bills ACTIVE flows only). */
export async function stopFlow(flowArn: string, signal?: AbortSignal): Promise<string> {
  const before = await flowStatus(flowArn, signal);
  if (before === "STANDBY" || before === "STOPPING" || before === "DELETED" || before === "DELETING")
    return before;
  // A flow being updated (an admin's override) cannot be stopped yet: the state retries.
  if (before === "UPDATING")
    throw new TaskError(
      TaskErrors.FlowNotReady,
      `Flow ${flowArn} is UPDATING; it can be stopped once it settles`,
    );
  try {
    const res = await mediaconnect().send(new StopFlowCommand({ FlowArn: flowArn }), { abortSignal: signal });
    return res.Status ?? "STOPPING";
  } catch (err) {
    if (errorName(err) !== "BadRequestException") throw err;
    const now = await flowStatus(flowArn, signal);
    if (now === "STANDBY" || now === "STOPPING") return now;
    throw err;
  }
}

/** The live flow of this name, if one exists (CreateFlow has no client token: look before creating again). */
export async function findFlowByName(name: string, signal?: AbortSignal): Promise<string | undefined> {
  for await (const page of paginateListFlows({ client: mediaconnect() }, {}, { abortSignal: signal }))
    for (const f of page.Flows ?? [])
      if (f.Name === name && f.Status !== "DELETING" && f.FlowArn) return f.FlowArn;
  return undefined;
}

/** The source name a flow gives its first source. */
export const primarySourceName = (flowName: string) => `${flowName}-primary`;

export interface NewFlow {
  readonly name: string;
  readonly protocol: Protocol;
  readonly allowedCidr: string;
  readonly port?: number;
  /** srt-caller: the encoder's SRT listener MediaConnect calls (address and `port`). */
  readonly listenerAddress?: string;
  readonly decryption?: { readonly algorithm: string; readonly secretArn: string; readonly roleArn: string };
  readonly tags: Record<string, string>;
}

/**
 * Creates a flow with one source (created STANDBY: not billed until started), or returns the live
 * flow of the same name (an earlier attempt whose answer was lost).
 */
export async function createFlow(spec: NewFlow, signal?: AbortSignal): Promise<Flow> {
  if (spec.protocol === "srt-caller" && !spec.listenerAddress)
    throw new Error("An srt-caller flow needs the encoder's listener address");
  const existing = await findFlowByName(spec.name, signal);
  if (existing) {
    const flow = await describeFlow(existing, signal);
    if (flow) return flow;
  }
  const caller = spec.protocol === "srt-caller";
  const res = await mediaconnect().send(
    new CreateFlowCommand({
      Name: spec.name,
      Source: {
        Name: primarySourceName(spec.name),
        Protocol: spec.protocol,
        ...(caller
          ? { SourceListenerAddress: spec.listenerAddress, SourceListenerPort: spec.port }
          : { WhitelistCidr: spec.allowedCidr, IngestPort: spec.port }),
        // SRT encrypts with a passphrase kept in Secrets Manager: key type srt-password.
        ...(spec.decryption
          ? {
              Decryption: {
                Algorithm: spec.decryption.algorithm as "aes128" | "aes192" | "aes256",
                KeyType: "srt-password",
                RoleArn: spec.decryption.roleArn,
                SecretArn: spec.decryption.secretArn,
              },
            }
          : {}),
      },
    }),
    { abortSignal: signal },
  );
  if (!res.Flow?.FlowArn) throw new Error("CreateFlow returned no flow");
  return res.Flow;
}

/** Deletes a flow (only a STANDBY flow can be); a flow already gone is fine. */
export async function deleteFlow(flowArn: string, signal?: AbortSignal): Promise<void> {
  try {
    await mediaconnect().send(new DeleteFlowCommand({ FlowArn: flowArn }), { abortSignal: signal });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export interface NewFlowSource {
  readonly name: string;
  readonly protocol: Protocol;
  readonly allowedCidr: string;
  readonly port?: number;
}

/**
 * Makes `source` the flow's second source, with source failover ENABLED (FAILOVER mode,
 * `primarySource` preferred): MediaConnect switches to the backup when the primary stops
 * delivering, and back when it returns. A source of that name already on the flow (an earlier
 * attempt) is returned as it is.
 */
export async function addBackupSource(
  flowArn: string,
  primarySource: string,
  source: NewFlowSource,
  signal?: AbortSignal,
): Promise<{ sourceArn?: string; ingestIp?: string; ingestPort?: number }> {
  const flow = await describeFlow(flowArn, signal);
  const existing = flow?.Sources?.find((s) => s.Name === source.name);
  if (existing)
    return { sourceArn: existing.SourceArn, ingestIp: existing.IngestIp, ingestPort: existing.IngestPort };
  await setPreferredSource(flowArn, primarySource, signal);
  const res = await mediaconnect().send(
    new AddFlowSourcesCommand({
      FlowArn: flowArn,
      Sources: [
        {
          Name: source.name,
          Protocol: source.protocol,
          ...(source.protocol === "srt-caller"
            ? {}
            : { WhitelistCidr: source.allowedCidr, IngestPort: source.port }),
        },
      ],
    }),
    { abortSignal: signal },
  );
  const added = res.Sources?.[0];
  return { sourceArn: added?.SourceArn, ingestIp: added?.IngestIp, ingestPort: added?.IngestPort };
}

/** Source failover ENABLED with `sourceName` preferred (the manual override of which source feeds the flow). */
export async function setPreferredSource(
  flowArn: string,
  sourceName: string,
  signal?: AbortSignal,
): Promise<void> {
  await mediaconnect().send(
    new UpdateFlowCommand({
      FlowArn: flowArn,
      SourceFailoverConfig: {
        State: "ENABLED",
        FailoverMode: "FAILOVER",
        RecoveryWindow: 200,
        SourcePriority: { PrimarySource: sourceName },
      },
    }),
    { abortSignal: signal },
  );
}

/** Removes a flow source; one already gone is fine. */
export async function removeFlowSource(
  flowArn: string,
  sourceArn: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await mediaconnect().send(new RemoveFlowSourceCommand({ FlowArn: flowArn, SourceArn: sourceArn }), {
      abortSignal: signal,
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export async function flowSourceMetadata(
  flowArn: string,
  signal?: AbortSignal,
): Promise<DescribeFlowSourceMetadataCommandOutput> {
  return await mediaconnect().send(new DescribeFlowSourceMetadataCommand({ FlowArn: flowArn }), {
    abortSignal: signal,
  });
}

/** Flows in the region (any state but DELETING), for the 20-flow quota check before a create. */
export async function flowCount(signal?: AbortSignal): Promise<number> {
  let n = 0;
  for await (const page of paginateListFlows({ client: mediaconnect() }, {}, { abortSignal: signal }))
    n += (page.Flows ?? []).filter((f) => f.Status !== "DELETING").length;
  return n;
}
