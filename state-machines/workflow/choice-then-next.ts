import * as sfn from "aws-cdk-lib/aws-stepfunctions";

/**
 * A Choice whose default is whatever follows it in the chain, so a fragment whose paths meet
 * again ends in its last Choice instead of a Pass that does nothing: Step Functions bills every
 * state entered, a no-op Pass too. The fragment lists `end` among its `endStates`.
 *
 * A chain that ends here (nothing follows) would leave the Choice without a default, which fails
 * an execution with States.NoChoiceMatched; the definition is refused when it is rendered instead.
 */
export class ChoiceThenNext extends sfn.Choice {
  private followed = false;

  /** The end of the fragment: `next(state)` makes `state` this Choice's default. */
  readonly end: sfn.INextable = {
    next: (state: sfn.IChainable): sfn.Chain => {
      this.otherwise(state);
      this.followed = true;
      return sfn.Chain.start(state);
    },
  };

  override toStateJson(topLevelQueryLanguage?: sfn.QueryLanguage): object {
    if (!this.followed)
      throw new Error(
        `Nothing follows "${this.stateId}": its default is the next state, so chain one after it`,
      );
    return super.toStateJson(topLevelQueryLanguage);
  }
}
