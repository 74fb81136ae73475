import { channelState } from "./channel-state.ts";
import type { Reaction } from "./define.ts";
import { destinationAlert } from "./destination-alert.ts";
import { flowStatus } from "./flow-status.ts";
import { inputSignal } from "./input-signal.ts";

/**
 * Every reaction castflow deploys, one line each: the stack makes an EventBridge rule and a
 * function for each, and the local runtime's event bus delivers the simulator's events to them.
 */
export const REACTIONS: readonly Reaction[] = [destinationAlert, inputSignal, channelState, flowStatus];
