import Flatbush from "flatbush";
import type { FenceGeometry } from "../../protocol/fence-geometry.ts";
import type { Bbox } from "../../protocol/geo.ts";

export interface IndexedFence<T> {
  fence: T;
  geometry: FenceGeometry;
}

/**
 * The fences a fix (or a move between two) may concern, by their bboxes in degrees: a static
 * R-tree (flatbush), rebuilt whenever the set of fences changes. Boxes are a coarse filter; the
 * geometry decides.
 *
 * A box whose west is greater than its east crosses the antimeridian, on either side: a fence's
 * box is stored as its two halves, a query's box is searched as two, and each fence is answered
 * once.
 */
export class FenceIndex<T extends { id: number }> {
  private readonly entries: readonly IndexedFence<T>[];
  private readonly tree: Flatbush | null;
  /** For each box in the tree, the entry it belongs to. */
  private readonly owners: Uint32Array;
  /** Whether some fence is stored as two boxes (crosses the antimeridian). */
  private readonly split: boolean;

  constructor(entries: readonly IndexedFence<T>[]) {
    this.entries = entries;
    const boxes: { entry: number; box: [number, number, number, number] }[] = [];
    entries.forEach(({ geometry: { bbox } }, entry) => {
      for (const box of halves(bbox)) boxes.push({ entry, box });
    });
    this.owners = Uint32Array.from(boxes, ({ entry }) => entry);
    this.split = boxes.length > entries.length;
    if (boxes.length === 0) {
      this.tree = null; // flatbush needs at least one item
      return;
    }
    const tree = new Flatbush(boxes.length);
    for (const { box } of boxes) tree.add(box[0], box[1], box[2], box[3]);
    tree.finish();
    this.tree = tree;
  }

  /**
   * Fences whose bbox intersects the box (degrees), each once, in the order they were given. Asked for every fix that may
   * concern a fence, so the common case (no box split at the antimeridian) allocates nothing but
   * the answer.
   */
  search(box: Bbox): IndexedFence<T>[] {
    const { tree, owners, entries } = this;
    if (!tree) return [];
    if (!this.split && box.west <= box.east) {
      // Boxes were added in the entries' order, so their numbers sorted are the entries' order.
      const boxes = tree.search(box.west, box.south, box.east, box.north).sort((p, q) => p - q);
      const found = new Array<IndexedFence<T>>(boxes.length);
      for (let k = 0; k < boxes.length; k++) found[k] = entries[owners[boxes[k]!]!]!;
      return found;
    }
    const hits = new Set<number>();
    for (const [west, south, east, north] of halves(box)) {
      for (const i of tree.search(west, south, east, north)) hits.add(owners[i]!);
    }
    return [...hits].sort((a, b) => a - b).map((entry) => entries[entry]!);
  }

  get size(): number {
    return this.entries.length;
  }
}

/** A box as one or two [minX, minY, maxX, maxY] rectangles that do not cross the antimeridian. */
function halves(box: Bbox): [number, number, number, number][] {
  if (box.west <= box.east) return [[box.west, box.south, box.east, box.north]];
  return [
    [box.west, box.south, 180, box.north],
    [-180, box.south, box.east, box.north],
  ];
}
