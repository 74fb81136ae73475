import { buildApp } from "./build-app.ts";

// Entry point of `npx cdk synth` / `cdk deploy` (see cdk.json).
buildApp().app.synth();
