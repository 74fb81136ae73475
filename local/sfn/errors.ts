/**
 * Errors of the local Step Functions service. API errors carry the AWS error code as their `name`
 * so the JSON protocol can answer `{"__type": name}` and the SDK client rebuilds the same name.
 */

/** An error answered to an API caller as `{"__type": code, "message": ...}` with HTTP 400. */
export class SfnApiError extends Error {
  readonly statusCode: number;
  constructor(code: string, message: string, statusCode = 400) {
    super(message);
    this.name = code;
    this.statusCode = statusCode;
  }
}

/** A state machine definition that the engine cannot run (invalid ASL). */
export class InvalidDefinitionError extends Error {
  constructor(machineName: string, detail: string) {
    super(`State machine '${machineName}' has an invalid definition: ${detail}`);
    this.name = "InvalidDefinitionError";
  }
}

/**
 * A definition that uses features aws-local-stepfunctions silently ignores (JSONata, Arguments,
 * Output, Assign). Running it would give results that differ from AWS without any warning.
 */
export class UnsupportedDefinitionError extends Error {
  readonly locations: readonly string[];
  constructor(machineName: string, locations: readonly string[]) {
    super(
      `State machine '${machineName}' uses features the local runtime cannot execute (it would ignore them silently): ${locations.join("; ")}. Write the definition in JSONPath without Arguments/Output/Assign.`,
    );
    this.name = "UnsupportedDefinitionError";
    this.locations = locations;
  }
}

/** The persisted state file exists but cannot be read back. */
export class StateFileError extends Error {
  constructor(path: string, detail: string) {
    super(`Cannot load the local Step Functions state file '${path}': ${detail}`);
    this.name = "StateFileError";
  }
}

/** `waitForExecution` gave up before the execution closed. */
export class WaitForExecutionTimeoutError extends Error {
  constructor(executionArn: string, timeoutMs: number) {
    super(`Execution ${executionArn} still RUNNING after ${timeoutMs} ms`);
    this.name = "WaitForExecutionTimeoutError";
  }
}

/**
 * The failure of a task as Step Functions sees it: only a name (matched by Retry/Catch) and a
 * message (the Cause). Built fresh from whatever the invoker threw so that no `cause` property
 * leaks into the engine, which would otherwise report the nested object as the Cause.
 */
export class TaskFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Error names the runtime itself records on executions it had to abort. */
export const LOCAL_RUNTIME_RESTARTED_ERROR = "castflow.LocalRuntimeRestarted";
export const LOCAL_RUNTIME_STOPPED_ERROR = "castflow.LocalRuntimeStopped";
/** Thrown to the engine when it asks for a task after the execution was stopped or timed out. */
export const EXECUTION_CLOSED_ERROR = "castflow.ExecutionClosed";
