/** MediaConnect's URL patterns: method + path template -> operation and success status. */
import { matchRest, type OperationMatch, type RestRoute } from "#local/simulator/http.ts";

/**
 * From the service model's `http` traits (botocore mediaconnect/2018-11-14 service-2.json;
 * identical in @aws-sdk/client-mediaconnect 3.654.0 dist-cjs). Note StartFlow/StopFlow put the
 * verb before the ARN (`/v1/flows/start/{FlowArn}`).
 */
export const ROUTES = [
  { method: "POST", path: "/v1/flows", operation: "CreateFlow", status: 201 },
  { method: "GET", path: "/v1/flows", operation: "ListFlows", status: 200 },
  { method: "GET", path: "/v1/flows/{FlowArn}", operation: "DescribeFlow", status: 200 },
  { method: "DELETE", path: "/v1/flows/{FlowArn}", operation: "DeleteFlow", status: 202 },
  { method: "PUT", path: "/v1/flows/{FlowArn}", operation: "UpdateFlow", status: 202 },
  { method: "POST", path: "/v1/flows/start/{FlowArn}", operation: "StartFlow", status: 202 },
  { method: "POST", path: "/v1/flows/stop/{FlowArn}", operation: "StopFlow", status: 202 },
  { method: "POST", path: "/v1/flows/{FlowArn}/outputs", operation: "AddFlowOutputs", status: 201 },
  {
    method: "DELETE",
    path: "/v1/flows/{FlowArn}/outputs/{OutputArn}",
    operation: "RemoveFlowOutput",
    status: 202,
  },
  { method: "POST", path: "/v1/flows/{FlowArn}/source", operation: "AddFlowSources", status: 201 },
  {
    method: "GET",
    path: "/v1/flows/{FlowArn}/source-metadata",
    operation: "DescribeFlowSourceMetadata",
    status: 200,
  },
  {
    method: "DELETE",
    path: "/v1/flows/{FlowArn}/source/{SourceArn}",
    operation: "RemoveFlowSource",
    status: 202,
  },
  { method: "POST", path: "/tags/{ResourceArn}", operation: "TagResource", status: 204 },
  { method: "DELETE", path: "/tags/{ResourceArn}", operation: "UntagResource", status: 204 },
  { method: "GET", path: "/tags/{ResourceArn}", operation: "ListTagsForResource", status: 200 },
] as const satisfies readonly RestRoute[];

export type MediaConnectOperation = (typeof ROUTES)[number]["operation"];

export const OPERATIONS: readonly MediaConnectOperation[] = ROUTES.map((r) => r.operation);

const SUCCESS_STATUS = new Map<string, number>(ROUTES.map((r) => [r.operation, r.status]));

export function successStatus(operation: MediaConnectOperation): number {
  return SUCCESS_STATUS.get(operation) ?? 200;
}

export function isMediaConnectOperation(operation: string): operation is MediaConnectOperation {
  return SUCCESS_STATUS.has(operation);
}

export function matchRoute(method: string, pathname: string): OperationMatch | undefined {
  return matchRest(ROUTES, method, pathname);
}
