import type { Vehicle } from "../state/fleet.svelte.ts";
import { ACCENT, STATUS_COLOR } from "../status.ts";

/** What a vehicle looks like on the canvas: arrow or dot, the selection halo, the name tag. */

const DEG = Math.PI / 180;
export const OUTLINE_COLOR = "#ffffff";
/** ACCENT at low opacity, behind the selected vehicle. */
const ACCENT_HALO = "rgba(37, 99, 235, 0.16)";
const LABEL_FONT =
  '600 12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/**
 * Add one vehicle to the current path: a heading arrow, or a dot when there is no course.
 * `outline` gives the larger white backing shape. No closePath: fill closes each subpath
 * anyway, and closePath on a path of thousands of subpaths is slow in Chromium.
 */
export function vehicleShape(
  ctx: CanvasRenderingContext2D,
  v: Pick<Vehicle, "hasCourse" | "course">,
  x: number,
  y: number,
  scale: number,
  outline: boolean,
): void {
  if (!v.hasCourse) {
    const r = 5 * scale + (outline ? 1.5 : 0);
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    return;
  }
  const s = outline ? scale * 1.24 : scale;
  // Course is clockwise from north and canvas y points down, so this is a plain rotation.
  const c = Math.cos(v.course * DEG) * s;
  const n = Math.sin(v.course * DEG) * s;
  ctx.moveTo(x + 10 * n, y - 10 * c); // tip (0, -10)
  ctx.lineTo(x + 7 * c - 8 * n, y + 7 * n + 8 * c); // right (7, 8)
  ctx.lineTo(x - 4 * n, y + 4 * c); // notch (0, 4)
  ctx.lineTo(x - 7 * c - 8 * n, y - 7 * n + 8 * c); // left (-7, 8)
}

/** The selected vehicle: a halo, a larger arrow and its label. */
export function selectedVehicle(
  ctx: CanvasRenderingContext2D,
  v: Vehicle,
  x: number,
  y: number,
  mapWidth: number,
): void {
  ctx.beginPath();
  ctx.arc(x, y, 17, 0, 2 * Math.PI);
  ctx.fillStyle = ACCENT_HALO;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = ACCENT;
  ctx.stroke();
  for (const outline of [true, false]) {
    ctx.beginPath();
    vehicleShape(ctx, v, x, y, 1.25, outline);
    ctx.fillStyle = outline ? OUTLINE_COLOR : STATUS_COLOR[v.status];
    ctx.fill();
  }
  vehicleLabel(ctx, v, x, y, mapWidth);
}

/** What the vehicle is called (its name, else its id) in a small white tag to its right. */
export function vehicleLabel(
  ctx: CanvasRenderingContext2D,
  v: Vehicle,
  x: number,
  y: number,
  mapWidth: number,
): void {
  ctx.font = LABEL_FONT;
  const w = ctx.measureText(v.label).width + 12;
  // To the right of the arrow, unless that would run off the map.
  const left = x + 21 + w > mapWidth ? x - 21 - w : x + 21;
  const top = y - 11;
  ctx.beginPath();
  ctx.roundRect(left, top, w, 22, 6);
  ctx.fillStyle = "rgba(255, 255, 255, 0.96)";
  ctx.shadowColor = "rgba(15, 23, 42, 0.18)";
  ctx.shadowBlur = 6;
  ctx.shadowOffsetY = 1;
  ctx.fill();
  ctx.shadowColor = "transparent";
  ctx.fillStyle = "#0f172a";
  ctx.textBaseline = "middle";
  ctx.fillText(v.label, left + 6, y + 0.5);
}

/** Milliseconds of one pulse of the ring around a vehicle an event concerns. */
const PULSE_MS = 1400;
export const HIGHLIGHT_COLOR = "#f59e0b";

/** A ring that swells and fades around a vehicle, over a steady one, once per PULSE_MS. */
export function highlightRing(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  now: number,
): void {
  const t = (now % PULSE_MS) / PULSE_MS;
  ctx.beginPath();
  ctx.arc(x, y, 14 + 16 * t, 0, 2 * Math.PI);
  ctx.lineWidth = 3;
  ctx.strokeStyle = `rgba(245, 158, 11, ${(0.85 * (1 - t)).toFixed(3)})`;
  ctx.stroke();
  ctx.beginPath();
  ctx.arc(x, y, 14, 0, 2 * Math.PI);
  ctx.fillStyle = "rgba(245, 158, 11, 0.18)";
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = HIGHLIGHT_COLOR;
  ctx.stroke();
}
