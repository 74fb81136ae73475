import { join } from "node:path";
import { PROJECT_ROOT } from "#infra/task-function.ts";

/** Where the local runtime keeps its state between restarts (`npm start -- --clean` wipes it). */
export const STATE_DIR = process.env.CASTFLOW_STATE_DIR ?? join(PROJECT_ROOT, ".castflow");
