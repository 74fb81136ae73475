import type * as sfn from "aws-cdk-lib/aws-stepfunctions";

/**
 * The end states of a fragment whose last Choice goes on, by default, to whatever is chained
 * after the fragment (CDK's `afterwards({ includeOtherwise: true })`), so paths that meet again
 * need no Pass that does nothing: Step Functions bills every state entered, a no-op Pass too.
 * Call it once the Choice's branches are built.
 *
 * A fragment that nothing follows would leave the Choice without a default, which fails an
 * execution with States.NoChoiceMatched: synth refuses it instead.
 */
export function defaultIsNext(choice: sfn.Choice): sfn.INextable[] {
  choice.node.addValidation({
    validate: () =>
      (choice.toStateJson() as { Default?: string }).Default !== undefined
        ? []
        : [`Nothing follows "${choice.stateId}": its default is the next state, so chain one after it`],
  });
  return choice.afterwards({ includeOtherwise: true }).endStates;
}
