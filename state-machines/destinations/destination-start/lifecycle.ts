import { destinationLifecycle } from "../lifecycles.ts";

/** destination-start: have the flow ACTIVE (started by the first destination that needs it), start the channel, wait RUNNING. */
export const destinationStart = destinationLifecycle("destination-start");
