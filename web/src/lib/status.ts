import type { DeviceStatus } from "../../../protocol/index.ts";

/**
 * One source for status colours: the canvas needs them as strings, the CSS as custom properties
 * (installed by `installStatusColors`), so the map and the panel can never disagree.
 */
export const STATUS_COLOR: Readonly<Record<DeviceStatus, string>> = {
  moving: "#16a34a",
  stopped: "#d97706",
  offline: "#94a3b8",
};

export const STATUS_LABEL: Readonly<Record<DeviceStatus, string>> = {
  moving: "Moving",
  stopped: "Stopped",
  offline: "Offline",
};

/** Paint order on the map: offline at the bottom, moving vehicles on top where they overlap. */
export const STATUS_ORDER: readonly DeviceStatus[] = ["offline", "stopped", "moving"];

/** Selection accent, shared by the canvas halo, the trail and the UI. */
export const ACCENT = "#2563eb";

export function installStatusColors(root: HTMLElement = document.documentElement): void {
  for (const status of STATUS_ORDER)
    root.style.setProperty(`--status-${status}`, STATUS_COLOR[status]);
  root.style.setProperty("--accent", ACCENT);
}
