/** MediaLive's URL patterns: method + path template -> operation and success status. */
import { matchRest, type OperationMatch, type RestRoute } from "#local/simulator/http.ts";

/** Paths, methods and success codes from the SDK's schemas (@aws-sdk/client-medialive dist-cjs `http` traits). */
export const ROUTES = [
  { method: "POST", path: "/prod/channels", operation: "CreateChannel", status: 201 },
  { method: "GET", path: "/prod/channels", operation: "ListChannels", status: 200 },
  { method: "GET", path: "/prod/channels/{ChannelId}", operation: "DescribeChannel", status: 200 },
  { method: "PUT", path: "/prod/channels/{ChannelId}", operation: "UpdateChannel", status: 200 },
  { method: "DELETE", path: "/prod/channels/{ChannelId}", operation: "DeleteChannel", status: 200 },
  { method: "POST", path: "/prod/channels/{ChannelId}/start", operation: "StartChannel", status: 200 },
  { method: "POST", path: "/prod/channels/{ChannelId}/stop", operation: "StopChannel", status: 200 },
  { method: "GET", path: "/prod/channels/{ChannelId}/alerts", operation: "ListAlerts", status: 200 },
  { method: "POST", path: "/prod/batch/stop", operation: "BatchStop", status: 200 },
  { method: "POST", path: "/prod/inputs", operation: "CreateInput", status: 201 },
  { method: "GET", path: "/prod/inputs", operation: "ListInputs", status: 200 },
  { method: "GET", path: "/prod/inputs/{InputId}", operation: "DescribeInput", status: 200 },
  { method: "DELETE", path: "/prod/inputs/{InputId}", operation: "DeleteInput", status: 200 },
  { method: "POST", path: "/prod/inputSecurityGroups", operation: "CreateInputSecurityGroup", status: 200 },
  { method: "GET", path: "/prod/inputSecurityGroups", operation: "ListInputSecurityGroups", status: 200 },
  {
    method: "GET",
    path: "/prod/inputSecurityGroups/{InputSecurityGroupId}",
    operation: "DescribeInputSecurityGroup",
    status: 200,
  },
  {
    method: "DELETE",
    path: "/prod/inputSecurityGroups/{InputSecurityGroupId}",
    operation: "DeleteInputSecurityGroup",
    status: 200,
  },
  { method: "POST", path: "/prod/tags/{ResourceArn}", operation: "CreateTags", status: 204 },
  { method: "DELETE", path: "/prod/tags/{ResourceArn}", operation: "DeleteTags", status: 204 },
  { method: "GET", path: "/prod/tags/{ResourceArn}", operation: "ListTagsForResource", status: 200 },
] as const satisfies readonly RestRoute[];

export type MediaLiveOperation = (typeof ROUTES)[number]["operation"];

export const OPERATIONS: readonly MediaLiveOperation[] = ROUTES.map((r) => r.operation);

const SUCCESS_STATUS = new Map<string, number>(ROUTES.map((r) => [r.operation, r.status]));

/** The HTTP status of a successful answer to the operation. */
export function successStatus(operation: MediaLiveOperation): number {
  return SUCCESS_STATUS.get(operation) ?? 200;
}

export function isMediaLiveOperation(operation: string): operation is MediaLiveOperation {
  return SUCCESS_STATUS.has(operation);
}

export function matchRoute(method: string, pathname: string): OperationMatch | undefined {
  return matchRest(ROUTES, method, pathname);
}
