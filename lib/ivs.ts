import { GetChannelCommand, GetStreamKeyCommand, ListStreamKeysCommand } from "@aws-sdk/client-ivs";
import { ivs } from "./clients.ts";
import { isNotFound, TaskError, TaskErrors } from "./errors.ts";

export interface IvsIngest {
  readonly ingestEndpoint: string;
  readonly playbackUrl: string;
}

/** The IVS channel's ingest endpoint and playback URL; `ProgramChannelMissing` when it is gone. */
export async function getIvsChannel(channelArn: string, signal?: AbortSignal): Promise<IvsIngest> {
  try {
    const res = await ivs().send(new GetChannelCommand({ arn: channelArn }), { abortSignal: signal });
    const { ingestEndpoint, playbackUrl } = res.channel ?? {};
    if (!ingestEndpoint || !playbackUrl)
      throw new Error(`IVS channel ${channelArn} has no ingest endpoint or playback URL`);
    return { ingestEndpoint, playbackUrl };
  } catch (err) {
    if (isNotFound(err)) {
      throw new TaskError(TaskErrors.ProgramChannelMissing, `IVS channel ${channelArn} does not exist`);
    }
    throw err;
  }
}

/**
 * The channel's stream key value. Only ever used inside a task to configure MediaLive; it is
 * never returned, logged or stored by castflow.
 */
export async function resolveStreamKey(channelArn: string, signal?: AbortSignal): Promise<string> {
  const keys = await ivs().send(new ListStreamKeysCommand({ channelArn }), { abortSignal: signal });
  const keyArn = keys.streamKeys?.[0]?.arn;
  if (!keyArn)
    throw new TaskError(TaskErrors.ProgramChannelMissing, `IVS channel ${channelArn} has no stream key`);
  const key = await ivs().send(new GetStreamKeyCommand({ arn: keyArn }), { abortSignal: signal });
  const value = key.streamKey?.value;
  if (!value) throw new TaskError(TaskErrors.ProgramChannelMissing, `IVS stream key ${keyArn} has no value`);
  return value;
}
