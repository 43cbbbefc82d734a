import { describeError } from "../api.ts";

/** What an admin action did, or why it failed, in a sentence for the admin. */
export interface Outcome {
  text: string;
  error: boolean;
}

/**
 * The actions on one admin list (rename, remove, change access…): one at a time, each followed
 * by a reload, so the message and the list shown with it never disagree.
 */
export class AdminAction {
  busy = $state(false);
  outcome = $state<Outcome | null>(null);
  private readonly reload: () => Promise<void>;

  /** `reload` fetches the list again; it reports its own failures. */
  constructor(reload: () => Promise<void>) {
    this.reload = reload;
  }

  /** Run `work` unless another action is under way; it answers what it did (null: nothing to say). */
  async run(work: () => Promise<string | null>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.outcome = null;
    let outcome: Outcome | null;
    try {
      const text = await work();
      outcome = text === null ? null : { text, error: false };
    } catch (e) {
      outcome = { text: describeError(e), error: true };
    }
    try {
      await this.reload();
    } finally {
      this.outcome = outcome;
      this.busy = false;
    }
  }
}
