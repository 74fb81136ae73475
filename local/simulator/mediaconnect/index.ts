/**
 * The simulated MediaConnect service (signing name `mediaconnect`, restJson1), split like
 * medialive/: routes.ts, responses.ts, models.ts, errors.ts.
 */
import type { OperationCall, OperationResult, ServiceHandler } from "#local/simulator/http.ts";
import type { JsonObject, SimContext } from "#local/simulator/store.ts";
import { ERROR_STATUS } from "./errors.ts";
import { MediaConnectBackend } from "./models.ts";
import { MediaConnectResponses } from "./responses.ts";
import { matchRoute, OPERATIONS } from "./routes.ts";

export { MEDIACONNECT_QUOTAS } from "./models.ts";

export interface MediaConnectService extends ServiceHandler {
  view(): { flows: JsonObject[] };
}

export function createMediaConnect(ctx: SimContext): MediaConnectService {
  const backend = new MediaConnectBackend(ctx);
  const responses = new MediaConnectResponses(backend);
  return {
    name: "mediaconnect",
    protocol: "restJson1",
    operations: OPERATIONS,
    errorStatus: (name) => ERROR_STATUS[name],
    match: (method, pathname) => matchRoute(method, pathname),
    invoke: (call: OperationCall): OperationResult => responses.dispatch(call),
    view: () => ({ flows: backend.allFlows().map((f) => responses.flow(f)) }),
  };
}
