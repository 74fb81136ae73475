/**
 * Named errors shared by the tasks that throw them and the state machines that catch them.
 * Step Functions matches Retry/Catch on the thrown error's `name`, so every class sets it and
 * nothing re-wraps an AWS SDK error (its name, e.g. `TooManyRequestsException`, must survive).
 */
export const TaskErrors = {
  /** A task's input failed validation: a bug in the state machine, never retried. */
  InvalidTaskInput: "InvalidTaskInput",
  /** The session record does not exist. */
  SessionNotFound: "SessionNotFound",
  /** The session is not in a state this lifecycle may start from (another lifecycle owns it). */
  SessionBusy: "SessionBusy",
  /** The session changed under this execution (another execution took it over). */
  SessionClaimLost: "SessionClaimLost",
  /** The channel is in a transitional state; the call can be retried after a pause. */
  ChannelNotReady: "ChannelNotReady",
  /**
   * A new MediaLive input is still being created (or still attached to a channel being deleted):
   * a channel can attach it in a moment. Retried sooner and more often than ChannelNotReady.
   */
  InputNotReady: "InputNotReady",
  /** The MediaLive channel (or input) this execution works on no longer exists. */
  ChannelNotFound: "ChannelNotFound",
  /** The MediaLive channel reached a state it cannot recover from on its own. */
  ChannelFailed: "ChannelFailed",
  /** The channel did not reach the awaited state within the waiter's budget. */
  ChannelWaitTimeout: "ChannelWaitTimeout",
  /** The session's IVS program channel is gone. */
  ProgramChannelMissing: "ProgramChannelMissing",
  /** IVS refused to delete a channel that is still receiving a stream; retried after the stream ends. */
  IvsChannelBusy: "IvsChannelBusy",
  /** An IVS channel that must not be deleted here (a host's persistent channel): never retried. */
  ChannelNotDeletable: "ChannelNotDeletable",
  /** IVS throttled or refused to create a channel (quota): the request may be retried shortly. */
  IvsUnavailable: "IvsUnavailable",
  /**
   * The execution that owned the session closed only moments ago: a task it started may still be
   * running (StopExecution does not stop a Lambda in flight). Retried until the grace period passed.
   */
  TakeoverPending: "TakeoverPending",
  /**
   * Another execution is creating a resource every session shares (the input security group):
   * retried until it is there, so concurrent first go-lives create one, not two.
   */
  SharedResourcePending: "SharedResourcePending",
  /**
   * An AWS account quota is reached (e.g. MediaLive's 5 channels per region): not retried, since
   * only deleting resources or raising the quota helps.
   */
  QuotaExceeded: "QuotaExceeded",
  /** The connection to an AWS API failed (reset, refused, DNS): retried like a 5xx. */
  NetworkError: "NetworkError",
  /** A DynamoDB transaction lost to a concurrent write on the same item: retried. */
  TransactionConflict: "TransactionConflict",
  /** The persistent channel is kept by the ended session: its MediaLive channel may still push to it. */
  ChannelStillInUse: "ChannelStillInUse",
  /** The destination is held by another lifecycle, or not in a state this one starts from. */
  DestinationBusy: "DestinationBusy",
  /** The destination record does not exist. */
  DestinationNotFound: "DestinationNotFound",
  /** The destination's source (or its flow) is gone or not usable. */
  SourceUnavailable: "SourceUnavailable",
  /** The source's flow is not ACTIVE yet (starting, or stopping for another destination): polled again. */
  FlowNotReady: "FlowNotReady",
  /** Another shared-channel-apply holds the source's shared channel (it applies every pending change). */
  SharedChannelBusy: "SharedChannelBusy",
  /**
   * Changes to a shared channel kept arriving for longer than one apply re-plans: the pending ones
   * are recorded as failed (never left pending) and can be asked for again.
   */
  SharedChannelChurn: "SharedChannelChurn",
} as const;

export type TaskErrorName = (typeof TaskErrors)[keyof typeof TaskErrors];

export class TaskError extends Error {
  constructor(
    override readonly name: TaskErrorName,
    message: string,
  ) {
    super(message);
  }
}

export const invalidTaskInput = (message: string) => new TaskError(TaskErrors.InvalidTaskInput, message);
export const sessionNotFound = (sessionId: string) =>
  new TaskError(TaskErrors.SessionNotFound, `Session ${sessionId} does not exist`);

/** The name an AWS SDK v3 error (or any thrown value) carries. */
export function errorName(err: unknown): string {
  if (err && typeof err === "object" && "name" in err && typeof err.name === "string") return err.name;
  return "Error";
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** True for "the thing is not there" answers of the SDK clients castflow uses. */
export function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  return name === "NotFoundException" || name === "ResourceNotFoundException" || name === "ParameterNotFound";
}

/** Lambda errors arrive with a JSON Cause (`{"errorType","errorMessage",...}`); others as text. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return "";
  try {
    const parsed: unknown = JSON.parse(cause);
    if (
      parsed &&
      typeof parsed === "object" &&
      "errorMessage" in parsed &&
      typeof parsed.errorMessage === "string"
    ) {
      return parsed.errorMessage;
    }
  } catch {
    // not JSON: a plain message
  }
  return cause;
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
]);

/** A socket-level failure: the SDK reports these with a `code`, not a named AWS error. */
export function isNetworkError(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const code = "code" in err ? String(err.code) : "";
  const causeCode =
    "cause" in err && err.cause && typeof err.cause === "object" && "code" in err.cause
      ? String(err.cause.code)
      : "";
  return NETWORK_CODES.has(code) || NETWORK_CODES.has(causeCode);
}

const OWN_ERRORS = new Set<string>([
  ...Object.values(TaskErrors),
  "SessionEndIncomplete",
  "ConfigurationError",
]);

/** castflow's own errors: its task errors, and those of its local runtime (`castflow.*`). */
const isOwnError = (code: string) => OWN_ERRORS.has(code) || code.startsWith("castflow.");

/**
 * The message a host may see for an error (session records, API responses). castflow's own errors
 * keep theirs; an AWS error's message can name roles, accounts and policies, so only its name is
 * shown: the details stay in the execution history and logs, for operators.
 */
export function publicErrorMessage(code: string, cause: string | undefined): string {
  if (isOwnError(code) || code.startsWith("States.")) return causeMessage(cause).slice(0, 1000);
  return `An AWS call failed with ${code}; the execution history has the details`;
}
