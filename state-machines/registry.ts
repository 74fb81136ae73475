import { destinationAddMachine } from "./destinations/destination-add/machine.ts";
import { destinationDeleteMachine } from "./destinations/destination-delete/machine.ts";
import { destinationStartMachine } from "./destinations/destination-start/machine.ts";
import { destinationStopMachine } from "./destinations/destination-stop/machine.ts";
import { destinationUpdateMachine } from "./destinations/destination-update/machine.ts";
import { sharedChannelApplyMachine } from "./destinations/shared-channel-apply/machine.ts";
import { reconcileMachine } from "./operations/reconcile/machine.ts";
import { endSessionMachine } from "./sessions/end-session/machine.ts";
import { goLiveMachine } from "./sessions/go-live/machine.ts";
import { stopStreamingMachine } from "./sessions/stop-streaming/machine.ts";
import type { MachineDefinition } from "./workflow/machine.ts";

/**
 * Every lifecycle castflow deploys, one line each. The stack builds a state machine (and the
 * functions of the tasks it uses) for each; the local runtime, the API's environment, the IAM
 * execution ARNs and the tests derive everything else from this list.
 */
export const MACHINES: readonly MachineDefinition[] = [
  goLiveMachine,
  stopStreamingMachine,
  endSessionMachine,
  destinationAddMachine,
  destinationStartMachine,
  destinationStopMachine,
  destinationUpdateMachine,
  destinationDeleteMachine,
  sharedChannelApplyMachine,
  reconcileMachine,
];
