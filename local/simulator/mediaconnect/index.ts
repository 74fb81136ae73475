/**
 * The simulated MediaConnect service (signing name `mediaconnect`, restJson1), split like
 * medialive/: routes.ts, responses.ts, models.ts, errors.ts.
 */
import type { SimEvent } from "#local/simulator/events.ts";
import type { OperationCall, OperationResult, ServiceHandler } from "#local/simulator/http.ts";
import type { JsonObject, SimContext } from "#local/simulator/store.ts";
import { ERROR_STATUS } from "./errors.ts";
import { MediaConnectBackend, type MediaConnectQuotaOverrides } from "./models.ts";
import { MediaConnectResponses } from "./responses.ts";
import { matchRoute, OPERATIONS } from "./routes.ts";

export {
  FLOW_STATUS_CHANGE,
  flowStatusEvent,
  MEDIACONNECT_QUOTAS,
  type MediaConnectQuotaOverrides,
} from "./models.ts";

/** A source whose `pushing` was set through POST /_sim/sources. */
export interface SourcePushing {
  flowArn: string;
  sourceName: string;
  pushing: boolean;
}

export interface MediaConnectService extends ServiceHandler {
  /** Flows as DescribeFlow renders them, plus `activeSource` (the name of the source the flow passes on). */
  view(): { flows: JsonObject[] };
  /**
   * What MediaLive does to flows for a MEDIACONNECT input (structurally medialive's FlowLink;
   * wired in index.ts so neither service depends on the other).
   */
  readonly mediaLiveLink: {
    outputRefusal(flowArn: string): string | undefined;
    addOutput(flowArn: string, inputArn: string, outputName: string): void;
    removeOutputs(inputArn: string): void;
    delivering(flowArn: string): boolean;
  };
  /** POST /_sim/sources `{flowArn, sourceName?, pushing}`; NotFoundException for an unknown flow or source. */
  setPushing(flowArn: string, sourceName: string | undefined, pushing: boolean): SourcePushing[];
  /** Sources whose `pushing` was set (GET /_sim/sources). */
  pushingSources(): SourcePushing[];
  /** The name of the flow's active source (null without sources). */
  activeSource(flowArn: string): string | null;
}

export function createMediaConnect(
  ctx: SimContext,
  onFlowsChanged: () => void = () => {},
  /** Raised quotas for this account (default: MEDIACONNECT_QUOTAS). */
  quotas: MediaConnectQuotaOverrides = {},
  /** Where "MediaConnect Flow Status Change" events go (default: nowhere). */
  emit: (event: SimEvent) => void = () => {},
): MediaConnectService {
  const backend = new MediaConnectBackend(ctx, onFlowsChanged, quotas, emit);
  const responses = new MediaConnectResponses(backend);
  return {
    name: "mediaconnect",
    protocol: "restJson1",
    operations: OPERATIONS,
    errorStatus: (name) => ERROR_STATUS[name],
    match: (method, pathname) => matchRoute(method, pathname),
    invoke: (call: OperationCall): OperationResult => responses.dispatch(call),
    view: () => ({
      flows: backend
        .allFlows()
        .map((f) => ({ ...responses.flow(f), activeSource: backend.activeSource(f)?.name ?? null })),
    }),
    mediaLiveLink: {
      outputRefusal: (flowArn) => backend.mediaLiveOutputRefusal(flowArn),
      addOutput: (flowArn, inputArn, outputName) => {
        backend.addMediaLiveOutput(flowArn, inputArn, outputName);
      },
      removeOutputs: (inputArn) => backend.removeMediaLiveOutputs(inputArn),
      delivering: (flowArn) => backend.delivering(flowArn),
    },
    setPushing: (flowArn, sourceName, pushing) =>
      backend
        .setPushing(flowArn, sourceName, pushing)
        .map((s) => ({ flowArn, sourceName: s.name, pushing: s.pushing !== false })),
    pushingSources: () =>
      backend
        .allFlows()
        .flatMap((f) =>
          f.sources.flatMap((s) =>
            s.pushing === undefined ? [] : [{ flowArn: f.arn, sourceName: s.name, pushing: s.pushing }],
          ),
        ),
    activeSource: (flowArn) => {
      const f = backend.allFlows().find((x) => x.arn === flowArn);
      return (f && backend.activeSource(f)?.name) ?? null;
    },
  };
}
