/**
 * The simulated MediaLive service, split the way moto splits one:
 * - routes.ts: URL patterns -> operations and success statuses;
 * - responses.ts: request parsing and answer rendering (the wire protocol);
 * - models.ts: resources, state machine, timed transitions, quotas (validation.ts: channel specs;
 *   alerts.ts: channel alerts and their events; state-events.ts: channel state-change events);
 * - errors.ts: error names, statuses and the shapes of validation and quota errors.
 */
import type { OperationCall, OperationResult, ServiceHandler } from "#local/simulator/http.ts";
import type { JsonObject, MlChannel, SimContext } from "#local/simulator/store.ts";
import { ERROR_STATUS, type QuotaName } from "./errors.ts";
import {
  type AlertLinks,
  type FlowLink,
  MediaLiveBackend,
  type RtmpPush,
  type RtmpTarget,
} from "./models.ts";
import { MediaLiveResponses } from "./responses.ts";
import { matchRoute, OPERATIONS } from "./routes.ts";

export type { PlatformLink } from "./alerts.ts";
export {
  type AlertLinks,
  type FlowLink,
  MEDIALIVE_QUOTAS,
  managedOutputName,
  type RtmpPush,
  type RtmpTarget,
} from "./models.ts";
export { CHANNEL_STATE_CHANGE, type ChannelEventState } from "./state-events.ts";

export interface MediaLiveService extends ServiceHandler {
  /** RTMP(S) pushes of RUNNING channels, for the IVS liveness link. */
  rtmpTargets(): RtmpTarget[];
  /** Every channel's RTMP destination settings, with whether content reaches them (platform ingest view). */
  rtmpPushes(): RtmpPush[];
  /** POST /_sim/sources `{inputId, pushing}`. NotFoundException / BadRequestException (a MEDIACONNECT input). */
  setInputPushing(inputId: string, pushing: boolean): void;
  /** Inputs whose `pushing` was set (GET /_sim/sources). */
  pushingInputs(): { inputId: string; pushing: boolean }[];
  view(): { channels: JsonObject[]; inputs: JsonObject[]; inputSecurityGroups: JsonObject[] };
  /**
   * Puts a channel in a state at once, cancelling its pending transitions: how tests reach the
   * states AWS produces on its own (CREATE_FAILED, RECOVERING, ...). False if there is no such channel.
   */
  forceChannelState(id: string, state: MlChannel["state"]): boolean;
  /**
   * Re-derive channel alerts from the channels and the platforms' refusals, emitting an event per
   * SET / CLEARED unless `quiet` (state load). Run wherever the ingest view is recomputed.
   */
  syncAlerts(options?: { quiet?: boolean }): void;
}

export function createMediaLive(
  ctx: SimContext,
  onChannelsChanged: () => void,
  /** MediaConnect, for MEDIACONNECT inputs (default: no flows exist). */
  flows?: FlowLink,
  /** The platforms' refusals and the event sink, for channel alerts (default: none). */
  alerts?: AlertLinks,
  /** Raised quotas (default: AWS's defaults). */
  quotas?: Partial<Record<QuotaName, number>>,
): MediaLiveService {
  const backend = new MediaLiveBackend(ctx, onChannelsChanged, flows, alerts, quotas);
  const responses = new MediaLiveResponses(backend);
  return {
    name: "medialive",
    protocol: "restJson1",
    operations: OPERATIONS,
    errorStatus: (name) => ERROR_STATUS[name],
    match: (method, pathname) => matchRoute(method, pathname),
    invoke: (call: OperationCall): OperationResult => responses.dispatch(call),
    rtmpTargets: () => backend.rtmpTargets(),
    rtmpPushes: () => backend.rtmpPushes(),
    setInputPushing: (inputId, pushing) => {
      backend.setInputPushing(inputId, pushing);
    },
    pushingInputs: () =>
      backend
        .allInputs()
        .flatMap((i) => (i.pushing === undefined ? [] : [{ inputId: i.id, pushing: i.pushing }])),
    forceChannelState: (id, state) => backend.forceChannelState(id, state),
    syncAlerts: (options) => backend.syncAlerts(options),
    view: () => ({
      channels: backend.allChannels().map((c) => responses.channel(c)),
      inputs: backend.allInputs().map((i) => responses.input(i)),
      inputSecurityGroups: backend.allInputSecurityGroups().map((g) => responses.inputSecurityGroup(g)),
    }),
  };
}
