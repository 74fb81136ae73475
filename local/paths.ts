import { join } from "node:path";
import { PROJECT_ROOT } from "#infra/project-root.ts";

/** Where the local runtime keeps its state between restarts (`npm start -- --clean` wipes it). */
export const stateDir = (env: Readonly<Record<string, string | undefined>> = process.env): string =>
  env.CASTFLOW_STATE_DIR ?? join(PROJECT_ROOT, ".castflow");

export const STATE_DIR = stateDir();
