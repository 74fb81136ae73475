import { destinationLifecycle } from "../lifecycles.ts";

/** destination-stop: stop the channel, wait IDLE, stop the flow when no other destination uses it. */
export const destinationStop = destinationLifecycle("destination-stop");
