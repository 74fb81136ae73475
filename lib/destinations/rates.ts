/**
 * The one rate table castflow's cost estimates use (USD, us-east-1). These are planning figures,
 * not AWS's price list: MediaLive bills per running input and output minute by resolution, codec
 * and channel class, with a 10-minute minimum and idle charges; MediaConnect bills per running
 * flow-hour plus data out (nothing while STANDBY). Check the AWS pricing pages before relying on
 * them, and change them here: everything that estimates cost reads this table.
 */
export const RATES = {
  /** A running SINGLE_PIPELINE HD channel with one output: the low end of the ~$1.50-3/h the shared-channel design quotes. Unverified. */
  mediaLiveChannelPerHour: 1.5,
  /** A running (ACTIVE) MediaConnect flow: the seeds' figure, unverified (aws-facts.md). */
  mediaConnectFlowPerHour: 0.16,
  /**
   * A stopped (IDLE) channel and an idle push input: MediaLive charges "a small idle charge" for
   * each until deleted (aws-facts.md "Cost"); the amount is not in castflow's sources. Unverified.
   */
  mediaLiveIdleChannelPerHour: 0.01,
  mediaLiveIdlePushInputPerHour: 0.01,
  /** MediaLive's minimum billed time per start (aws-facts.md "Cost"). */
  mediaLiveMinimumMinutes: 10,
  source: "castflow planning rates (lib/destinations/rates.ts); unverified against the AWS price list",
} as const;

/** Estimated MediaLive cost of `runningSeconds` over `starts` starts, with the 10-minute minimum per start. */
export function channelCost(runningSeconds: number, starts: number): number {
  const billedMinutes = Math.max(runningSeconds / 60, starts * RATES.mediaLiveMinimumMinutes);
  return Math.round((billedMinutes / 60) * RATES.mediaLiveChannelPerHour * 100) / 100;
}

/** The rates an estimate used, as the API shows them beside it. */
export const ratesView = () => ({
  mediaLiveChannelPerHour: RATES.mediaLiveChannelPerHour,
  mediaConnectFlowPerHour: RATES.mediaConnectFlowPerHour,
  minimumMinutesPerStart: RATES.mediaLiveMinimumMinutes,
  source: RATES.source,
});
