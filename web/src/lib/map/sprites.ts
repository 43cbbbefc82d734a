import type { DeviceStatus } from "../../../../protocol/index.ts";
import type { Vehicle } from "../state/fleet.svelte.ts";
import { STATUS_COLOR } from "../status.ts";
import { vehicleShape } from "./glyphs.ts";

/** Headings are drawn in steps of this many degrees: finer than an arrow a dozen pixels long shows. */
const HEADING_STEP = 5;
const HEADINGS = 360 / HEADING_STEP;
/** Sprite side in CSS pixels: the arrow at scale 1 (tip 10 px from the centre) fits. */
const SPRITE_CSS = 24;
const STATUSES: readonly DeviceStatus[] = ["moving", "stopped", "offline"];

/**
 * One pre-rasterised glyph: its visible pixels, as offsets into a frame row-major buffer (valid
 * for one frame width), their column and row within the sprite (for clipping at the edges), and
 * their RGBA as one Uint32 each (byte order as ImageData stores it: alpha is the top byte on the
 * little-endian machines browsers run on).
 */
interface Sprite {
  offsets: Int32Array;
  cols: Uint8Array;
  rows: Uint8Array;
  pixels: Uint32Array;
  alphas: Uint8Array;
}

/**
 * Software rendering (no GPU) spends most of a crowded frame filling vector paths: 10,000 arrows
 * take ~55 ms in headless Chromium. A glyph has only a few hundred possible looks (status ×
 * heading × whether it has a course), so each is rasterised once with the same vector code, and
 * a frame copies their pixels into one ImageData: ~5 ms for the same 10,000.
 *
 * Overlaps keep the later pixel unless it is less opaque, instead of blending: opaque pixels
 * follow paint order, and only antialiased edges differ from true compositing, which at this
 * density nobody can see. As in the vector path's crowd, arrows have no white outline: that
 * dense they read as a density, and outlines would only speckle it.
 */
export class SpriteBlitter {
  /** Indexed by glyphIndex(): no string keys in a loop that runs 10,000 times a frame. */
  private cache: (Sprite | undefined)[] = [];
  private image: ImageData | null = null;
  private frame = new Uint32Array(0);
  private width = 0;
  private height = 0;
  private dpr = 1;

  /** Start a frame of this size in device pixels (cleared). */
  begin(ctx: CanvasRenderingContext2D, width: number, height: number, dpr: number): void {
    if (!this.image || this.width !== width || this.height !== height || this.dpr !== dpr) {
      if (this.dpr !== dpr || this.width !== width) this.cache = []; // offsets use the row width
      this.image = ctx.createImageData(width, height);
      this.frame = new Uint32Array(this.image.data.buffer);
      this.width = width;
      this.height = height;
      this.dpr = dpr;
    } else {
      this.frame.fill(0);
    }
  }

  /** Stamp a vehicle at CSS pixel (x, y). */
  stamp(v: Vehicle, x: number, y: number, scale: number): void {
    const sprite = this.sprite(v, scale);
    const side = Math.ceil(SPRITE_CSS * this.dpr);
    const left = Math.round(x * this.dpr) - (side >> 1);
    const top = Math.round(y * this.dpr) - (side >> 1);
    const { frame, width, height } = this;
    const { offsets, cols, rows, pixels, alphas } = sprite;
    const base = top * width + left;
    if (left >= 0 && top >= 0 && left + side <= width && top + side <= height) {
      for (let j = 0; j < offsets.length; j++) {
        const at = base + offsets[j]!;
        if (frame[at]! >>> 24 <= alphas[j]!) frame[at] = pixels[j]!;
      }
      return;
    }
    // Partly off the canvas: clip pixel by pixel.
    for (let j = 0; j < offsets.length; j++) {
      const col = left + cols[j]!;
      const row = top + rows[j]!;
      if (col < 0 || col >= width || row < 0 || row >= height) continue;
      const at = base + offsets[j]!;
      if (frame[at]! >>> 24 <= alphas[j]!) frame[at] = pixels[j]!;
    }
  }

  end(ctx: CanvasRenderingContext2D): void {
    if (this.image) ctx.putImageData(this.image, 0, 0);
  }

  private sprite(v: Vehicle, scale: number): Sprite {
    // Slot 0 is the dot (no course), then one per heading step; per status, per scale.
    const heading = v.hasCourse
      ? 1 + (Math.round((((v.course % 360) + 360) % 360) / HEADING_STEP) % HEADINGS)
      : 0;
    const index =
      ((scale === 1 ? 0 : 1) * STATUSES.length + STATUSES.indexOf(v.status)) * (HEADINGS + 1) +
      heading;
    return (this.cache[index] ??= this.rasterise(v.status, heading - 1, v.hasCourse, scale));
  }

  private rasterise(
    status: DeviceStatus,
    heading: number,
    hasCourse: boolean,
    scale: number,
  ): Sprite {
    const side = Math.ceil(SPRITE_CSS * this.dpr);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = side;
    const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const centre = side / 2 / this.dpr;
    // The same vector glyph as the uncrowded path draws.
    ctx.beginPath();
    vehicleShape(ctx, { hasCourse, course: heading * HEADING_STEP }, centre, centre, scale, false);
    ctx.fillStyle = STATUS_COLOR[status];
    ctx.fill();
    const data = new Uint32Array(ctx.getImageData(0, 0, side, side).data.buffer);
    const offsets: number[] = [];
    const cols: number[] = [];
    const rows: number[] = [];
    const pixels: number[] = [];
    const alphas: number[] = [];
    for (let k = 0; k < data.length; k++) {
      const alpha = data[k]! >>> 24;
      if (alpha === 0) continue;
      const row = Math.floor(k / side);
      const col = k % side;
      offsets.push(row * this.width + col);
      cols.push(col);
      rows.push(row);
      pixels.push(data[k]!);
      alphas.push(alpha);
    }
    return {
      offsets: Int32Array.from(offsets),
      cols: Uint8Array.from(cols),
      rows: Uint8Array.from(rows),
      pixels: Uint32Array.from(pixels),
      alphas: Uint8Array.from(alphas),
    };
  }
}
