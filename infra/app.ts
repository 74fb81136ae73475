import { Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { buildApp } from "./build-app.ts";

// `old` is a measurement switch of `npm run chaos` (the retries before in-task SDK retries): it
// must never reach a synthesized or deployed stack.
if (process.env.CASTFLOW_RETRY_SETTING && process.env.CASTFLOW_RETRY_SETTING !== "new") {
  throw new Error(
    `CASTFLOW_RETRY_SETTING=${process.env.CASTFLOW_RETRY_SETTING} is for npm run chaos only; unset it to synthesize or deploy`,
  );
}

// Entry point of `npx cdk synth` / `cdk deploy` (see cdk.json). cdk-nag's AwsSolutions pack runs at
// synthesis: a finding nobody fixed or acknowledged (infra/nag.ts) stops the synth, as it fails
// test/infra/nag.test.ts.
const { app } = buildApp();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
