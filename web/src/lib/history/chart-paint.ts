import { timeToX, type ChartScale, type SeriesExtent } from "./chart.ts";
import { edgeSpeed, SPEED_BANDS, speedBand } from "./speed-scale.ts";
import type { Track } from "./track.ts";

/** Plot height in CSS pixels. */
export const CHART_HEIGHT = 76;
const GRID_COLOR = "rgba(100, 116, 139, 0.15)";
const ALT_COLOR = "#94a3b8";
/** Speed areas are tinted, their top edges full colour: the altitude line shows through. */
const AREA_ALPHA = 0.3;

/**
 * Paint the speed/altitude chart (geometry in chart.ts): a light grid, speed as a step per
 * stretch between vertices in the map's speed colours, altitude as a dashed line on its own
 * scale. `ctx` is already scaled to CSS pixels; `speedTopKmh` is the speed axis' maximum.
 */
export function paintChart(
  ctx: CanvasRenderingContext2D,
  scale: ChartScale,
  track: Track | null,
  extent: SeriesExtent | null,
  speedTopKmh: number,
): void {
  const height = CHART_HEIGHT;
  ctx.clearRect(0, 0, scale.width, height);
  // Quarter lines of the speed axis.
  ctx.strokeStyle = GRID_COLOR;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 1; i < 4; i++) {
    const y = Math.round((height * i) / 4) + 0.5;
    ctx.moveTo(0, y);
    ctx.lineTo(scale.width, y);
  }
  ctx.stroke();
  if (!track) return;
  paintSpeed(ctx, scale, track, speedTopKmh);
  if (extent && extent.minAlt !== null && extent.maxAlt !== null)
    paintAltitude(ctx, scale, track, extent.minAlt, extent.maxAlt);
}

/**
 * A step per stretch between vertices (edgeSpeed: on a simplified track that is distance over
 * time, not the two fixes' instants), coloured as the map colours that stretch. One fill and one
 * stroke per band rather than per stretch; gaps between segments stay empty.
 */
function paintSpeed(
  ctx: CanvasRenderingContext2D,
  scale: ChartScale,
  track: Track,
  speedTopKmh: number,
): void {
  const height = CHART_HEIGHT;
  const speedY = (mps: number) => height - ((mps * 3.6) / speedTopKmh) * (height - 4);
  const areas = SPEED_BANDS.map(() => new Path2D());
  const tops = SPEED_BANDS.map(() => new Path2D());
  for (const segment of track.segments) {
    for (let i = 1; i < segment.length; i++) {
      const a = segment[i - 1]!;
      const b = segment[i]!;
      const speed = edgeSpeed(a, b);
      const band = speedBand(speed);
      const x = timeToX(scale, a[0]);
      const width = timeToX(scale, b[0]) - x;
      const y = speedY(speed ?? 0);
      areas[band]!.rect(x, y, width, height - y);
      tops[band]!.moveTo(x, y);
      tops[band]!.lineTo(x + width, y);
    }
  }
  ctx.lineWidth = 2;
  SPEED_BANDS.forEach(({ color }, band) => {
    ctx.fillStyle = color;
    ctx.globalAlpha = AREA_ALPHA;
    ctx.fill(areas[band]!);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = color;
    ctx.stroke(tops[band]!);
  });
}

/** Altitude on its own scale, in the upper part of the plot so it does not hide the speed. */
function paintAltitude(
  ctx: CanvasRenderingContext2D,
  scale: ChartScale,
  track: Track,
  minAlt: number,
  maxAlt: number,
): void {
  const span = Math.max(10, maxAlt - minAlt);
  const altY = (alt: number) => 6 + (1 - (alt - minAlt) / span) * (CHART_HEIGHT * 0.6);
  ctx.strokeStyle = ALT_COLOR;
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 2]);
  for (const segment of track.segments) {
    ctx.beginPath();
    let started = false;
    for (const p of segment) {
      if (p[4] === null) continue;
      const x = timeToX(scale, p[0]);
      if (started) ctx.lineTo(x, altY(p[4]));
      else ctx.moveTo(x, altY(p[4]));
      started = true;
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
}
