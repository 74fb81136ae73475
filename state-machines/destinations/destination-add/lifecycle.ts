import { destinationLifecycle } from "../lifecycles.ts";

/** destination-add: create the destination's MediaLive input (on its source's flow) and channel, ready to start. */
export const destinationAdd = destinationLifecycle("destination-add");
