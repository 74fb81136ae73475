/**
 * Every task Lambda, by name. The file `tasks/<name>.ts` exports its `handler`; the CDK stack
 * builds one function per name and the local runtime maps each function back to its module.
 */
export const TASK_NAMES = [
  "claim-session",
  "ensure-input",
  "ensure-channel",
  "describe-channel",
  "describe-input",
  "start-channel",
  "stop-channel",
  "delete-channel",
  "delete-input",
  "confirm-program-channel",
  "mark-live",
  "find-created-resources",
  "record-failure",
  "claim-stop",
  "mark-stopped",
  "claim-end",
  "delete-ivs-channel",
  "release-persistent-channel",
  "record-session-ended",
] as const;

export type TaskName = (typeof TASK_NAMES)[number];

/** Environment variable carrying the task name on each function (how the local runtime maps ARNs to modules). */
export const TASK_NAME_ENV = "CASTFLOW_TASK";
