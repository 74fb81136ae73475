/**
 * Local Step Functions: runs JSONPath state machines offline (aws-local-stepfunctions) behind the
 * SFN JSON 1.0 API, so `@aws-sdk/client-sfn` and the AWS CLI work unchanged against it.
 */
export {
  InvalidDefinitionError,
  LOCAL_RUNTIME_RESTARTED_ERROR,
  LOCAL_RUNTIME_STOPPED_ERROR,
  SfnApiError,
  StateFileError,
  UnsupportedDefinitionError,
  WaitForExecutionTimeoutError,
} from "./errors.ts";
export { currentStateName, type HistoryEventLike, type HistoryEventRecord } from "./history.ts";
export {
  type AbortedExecution,
  createSfnService,
  type ExecutionDescription,
  type ExecutionEvent,
  type ExecutionListener,
  type LocalStateMachine,
  type SfnService,
  type SfnServiceOptions,
  type TaskInvoker,
} from "./service.ts";
export type { ExecutionStatus } from "./store.ts";
