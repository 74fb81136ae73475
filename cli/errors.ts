/** Exit codes: 0 success, 1 a failed command or execution, 2 a usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The command line is wrong (a missing argument or option): exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The command could not be done: exit 1, the message printed as it is. */
export class CliError extends Error {
  override readonly name: string = "CliError";
}

/** The API answered with an error: `{"error": {"code", "message", "details"?}}` and its status. */
export class ApiFailure extends CliError {
  override readonly name = "ApiFailure";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Nothing answers at the API's address. */
export class UnreachableError extends CliError {
  override readonly name = "UnreachableError";
}
