import { buildApp } from "./build-app.ts";

// `old` is a measurement switch of `npm run chaos` (the retries before in-task SDK retries): it
// must never reach a synthesized or deployed stack.
if (process.env.CASTFLOW_RETRY_SETTING && process.env.CASTFLOW_RETRY_SETTING !== "new") {
  throw new Error(
    `CASTFLOW_RETRY_SETTING=${process.env.CASTFLOW_RETRY_SETTING} is for npm run chaos only; unset it to synthesize or deploy`,
  );
}

// Entry point of `npx cdk synth` / `cdk deploy` (see cdk.json).
buildApp().app.synth();
