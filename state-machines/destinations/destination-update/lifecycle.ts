import { destinationLifecycle } from "../lifecycles.ts";

/** destination-update: write the new settings into the channel (stop -> update -> start when it runs). */
export const destinationUpdate = destinationLifecycle("destination-update");
