import type { DeviceStatus } from "../../../../protocol/index.ts";

/** What the vehicle list shows: a search on the id and an optional status. */
class ListFilter {
  query = $state("");
  status = $state<DeviceStatus | null>(null);

  toggleStatus(status: DeviceStatus): void {
    this.status = this.status === status ? null : status;
  }
}

export const listFilter = new ListFilter();
