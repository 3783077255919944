/**
 * Counts the storage queries of one root-cause search. A step that would exceed the budget is not run,
 * so a huge mesh or a slow store makes the verdict thinner, never the analysis round longer.
 */
export class QueryBudget {
  private used = 0;
  private readonly skipped: string[] = [];

  constructor(private readonly max: number) {}

  /** Runs `query` if the budget allows, else records `what` as skipped and returns `fallback`. */
  async run<T>(what: string, fallback: T, query: () => Promise<T>): Promise<T> {
    if (this.used >= this.max) {
      this.skipped.push(what);
      return fallback;
    }
    this.used++;
    return query();
  }

  get queriesUsed(): number {
    return this.used;
  }

  /** What was left out for lack of budget, for the log line that explains a thin verdict. */
  get skippedSteps(): readonly string[] {
    return this.skipped;
  }
}
