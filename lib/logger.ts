import { Logger } from "@aws-lambda-powertools/logger";

/**
 * Structured JSON logs (level from POWERTOOLS_LOG_LEVEL / LOG_LEVEL). Callers add `sessionId` /
 * `executionArn` keys; stream keys and other secrets are never passed to the logger.
 */
export const logger = new Logger({ serviceName: "castflow" });
