import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "#local/dynamodb.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/** One DynamoDB Local for the whole run; each test file uses tables of its own. */
export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal();
  project.provide("dynamodbEndpoint", ddb.endpoint);
  return async () => {
    await ddb.stop();
  };
}
