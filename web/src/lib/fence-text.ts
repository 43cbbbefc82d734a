import type { FenceShape } from "../../../protocol/geofence.ts";
import { formatDistance, metresBetween } from "./geo/fence-math.ts";

/** A fence's shape in a few words: "radius 300 m", "5 corners", "1.2 km long, 50 m wide". */
export function describeShape(shape: FenceShape): string {
  if (shape.type === "circle") return `radius ${formatDistance(shape.radius)}`;
  if (shape.type === "polygon") return `${shape.ring.length} corners`;
  let length = 0;
  for (let i = 1; i < shape.line.length; i++)
    length += metresBetween(shape.line[i - 1]!, shape.line[i]!);
  return `${formatDistance(length)} long, ${formatDistance(shape.width)} wide`;
}
