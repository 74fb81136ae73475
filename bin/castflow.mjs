#!/usr/bin/env node
// castflow's CLI (cli/): TypeScript run through tsx, as `npm start` runs the local runtime.
import { register } from "tsx/esm/api";

register();
await import(new URL("../cli/main.ts", import.meta.url).href);
