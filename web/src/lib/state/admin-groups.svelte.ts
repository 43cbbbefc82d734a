import type { AdminGroup } from "../../../../protocol/admin.ts";
import { describeError, fetchGroups } from "../api.ts";

/**
 * The device groups, as the admin panel's three tabs need them: the Groups tab lists and edits
 * them, a device's editor and a user's access editor offer them to pick from. One list, reloaded
 * after anything that changes it, so a group added on one tab is offered on the others at once.
 */
class AdminGroups {
  list = $state.raw<AdminGroup[] | null>(null);
  loadError = $state<string | null>(null);
  /** Group names in the server's order, for pickers. */
  readonly names = $derived(this.list?.map((g) => g.name) ?? []);

  async load(): Promise<void> {
    try {
      this.list = (await fetchGroups()).groups;
      this.loadError = null;
    } catch (e) {
      this.loadError = describeError(e);
    }
  }
}

export const adminGroups = new AdminGroups();
