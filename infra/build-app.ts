import { App } from "aws-cdk-lib";
import { CastflowStack } from "./castflow-stack.ts";

/**
 * Builds the CDK app. Settings come from cdk.json context (override with `-c castflow:stage=prod`
 * ...). No lookups: synth works offline without credentials.
 */
export function buildApp(app = new App()): { app: App; stack: CastflowStack } {
  const ctx = (key: string, fallback: string) =>
    String(app.node.tryGetContext(`castflow:${key}`) ?? fallback);
  const stage = ctx("stage", "dev");
  const stack = new CastflowStack(app, `castflow-${stage}`, {
    stage,
    jwtIssuer: ctx("jwtIssuer", "https://auth.example.com/"),
    jwtAudience: ctx("jwtAudience", "castflow-api"),
    legacyProgramChannels: ctx("legacyProgramChannels", "false") === "true",
    description: "castflow: Step Functions lifecycles for live streaming on MediaLive and IVS",
  });
  return { app, stack };
}
