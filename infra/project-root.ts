import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder. Its own module, so what needs only this path does not load aws-cdk-lib. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
