import type { DeviceStatus } from "../../../../protocol/index.ts";
import type { Vehicle } from "../state/fleet.svelte.ts";
import { STATUS_COLOR, STATUS_ORDER } from "../status.ts";
import type { DrawnVehicles } from "./drawn-vehicles.ts";
import { OUTLINE_COLOR, vehicleShape } from "./glyphs.ts";
import type { SpriteBlitter } from "./sprites.ts";

/** Above this many vehicles in view, glyphs are stamped from pre-rasterised sprites (sprites.ts). */
const VECTOR_MAX_VEHICLES = 1500;
const STATUS_INDEX: Readonly<Record<DeviceStatus, number>> = { offline: 0, stopped: 1, moving: 2 };

/**
 * Paint every drawn vehicle's glyph, status by status (STATUS_ORDER: moving on top where they
 * overlap): as vector paths while few are in view, from sprites in a crowd.
 */
export function paintVehicles(
  ctx: CanvasRenderingContext2D,
  list: readonly Vehicle[],
  drawn: DrawnVehicles,
  scale: number,
  sprites: SpriteBlitter,
  dpr: number,
): void {
  if (drawn.count > VECTOR_MAX_VEHICLES) stampAll(ctx, list, drawn, scale, sprites, dpr);
  else fillAll(ctx, list, drawn, scale);
}

/**
 * Each status is two fills: a slightly larger white arrow as the outline, then the colour.
 * Stroking would be simpler, but a software-rasterised canvas (no GPU) takes ~80 ms a frame
 * to stroke 5,000 arrows.
 */
function fillAll(
  ctx: CanvasRenderingContext2D,
  list: readonly Vehicle[],
  drawn: DrawnVehicles,
  scale: number,
): void {
  const { xs, ys, order, count } = drawn;
  for (const status of STATUS_ORDER) {
    const want = STATUS_INDEX[status];
    for (const outline of [true, false]) {
      ctx.beginPath();
      for (let j = 0; j < count; j++) {
        const i = order[j]!;
        const v = list[i]!;
        if (STATUS_INDEX[v.status] === want) vehicleShape(ctx, v, xs[i]!, ys[i]!, scale, outline);
      }
      ctx.fillStyle = outline ? OUTLINE_COLOR : STATUS_COLOR[status];
      ctx.fill();
    }
  }
}

/** The crowded case: the same glyphs from sprites, in the same paint order. */
function stampAll(
  ctx: CanvasRenderingContext2D,
  list: readonly Vehicle[],
  drawn: DrawnVehicles,
  scale: number,
  sprites: SpriteBlitter,
  dpr: number,
): void {
  const { xs, ys, order, count } = drawn;
  sprites.begin(ctx, ctx.canvas.width, ctx.canvas.height, dpr);
  for (const status of STATUS_ORDER) {
    const want = STATUS_INDEX[status];
    for (let j = 0; j < count; j++) {
      const i = order[j]!;
      const v = list[i]!;
      if (STATUS_INDEX[v.status] === want) sprites.stamp(v, xs[i]!, ys[i]!, scale);
    }
  }
  sprites.end(ctx);
}
