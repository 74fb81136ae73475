import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { config } from "#lib/config.ts";
import { isNotFound } from "#lib/errors.ts";
import { ssm } from "./clients.ts";

/**
 * Destinations' stream keys, as SSM SecureString parameters `<prefix>/<destinationId>/<which>`.
 * A key is written by the API when a host gives it and read only by the task that writes the
 * MediaLive channel: it is never in a record, a state payload, a log line or an answer.
 */
export type KeySlot = "primary" | "backup";

export const streamKeyParameter = (destinationId: string, slot: KeySlot) =>
  `${config().STREAM_KEY_PARAMETER_PREFIX}/${destinationId}/${slot}`;

/** Writes a stream key and returns the parameter's new version (shared mode fingerprints it). */
export async function putStreamKey(name: string, key: string): Promise<number> {
  const res = await ssm().send(
    new PutParameterCommand({
      Name: name,
      Value: key,
      Type: "SecureString",
      Overwrite: true,
      Description: "castflow destination stream key",
    }),
  );
  return res.Version ?? 0;
}

export async function readStreamKey(name: string, signal?: AbortSignal): Promise<string> {
  const res = await ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true }), {
    abortSignal: signal,
  });
  const value = res.Parameter?.Value;
  if (!value) throw new Error(`Stream key parameter ${name} has no value`);
  return value;
}

/** Deletes a stream key parameter; one already gone is fine. */
export async function deleteStreamKey(name: string, signal?: AbortSignal): Promise<void> {
  try {
    await ssm().send(new DeleteParameterCommand({ Name: name }), { abortSignal: signal });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
