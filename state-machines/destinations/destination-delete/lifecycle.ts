import { destinationLifecycle } from "../lifecycles.ts";

/** destination-delete: stop, delete channel and input, release the flow, delete the stream keys. */
export const destinationDelete = destinationLifecycle("destination-delete");
