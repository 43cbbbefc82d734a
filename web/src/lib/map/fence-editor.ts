import * as L from "leaflet";
import type { FenceShape, LatLon } from "../../../../protocol/geofence.ts";
import {
  formatDistance,
  metresBetween,
  metresPerPixel,
  niceMetres,
  shapeCentre,
  translateShape,
  vertex,
} from "../geo/fence-math.ts";
import { FenceView, toLatLng } from "./fence-view.ts";

export type EditorKind = FenceShape["type"];

export interface FenceEditorHooks {
  /** The shape changed on the map (a click while drawing, a drag while editing). */
  change(shape: FenceShape | null): void;
  /** Drawing is complete: the shape gets its handles. */
  finish(): void;
  /** Escape while drawing. */
  cancel(): void;
}

export interface EditorState {
  kind: EditorKind;
  phase: "drawing" | "editing";
  shape: FenceShape | null;
  color: string;
}

/** Pixels within which a click on the first corner closes a polygon. */
const CLOSE_PX = 12;
/** Pixels within which a click repeats the previous point (a double click's first half). */
const SAME_PX = 6;
/** Pixels an arrow key moves a focused handle (Shift: five times as far). */
const NUDGE_PX = 4;
/** Default size of a new circle or corridor, as a share of the view's smaller side. */
const DEFAULT_RADIUS_SHARE = 1 / 8;
const DEFAULT_WIDTH_PX = 28;

const MIN_POINTS: Record<"polygon" | "corridor", number> = { polygon: 3, corridor: 2 };

function handleIcon(kind: "vertex" | "first" | "mid" | "move" | "radius" | "placed"): L.DivIcon {
  const size = kind === "move" ? 26 : kind === "mid" ? 12 : kind === "placed" ? 10 : 16;
  return L.divIcon({
    className: `locus-handle locus-handle-${kind}`,
    iconSize: [size, size],
    html: "",
  });
}

/**
 * Draws and edits one fence on the map, with nothing but Leaflet: clicks place a polygon's
 * corners or a corridor's points (double-click, Enter on the Finish button or a click on the
 * first corner ends it), two clicks make a circle (centre, then radius). Every handle is a
 * draggable Leaflet marker, and a real focusable button: arrow keys move it, Delete removes a
 * corner, Enter on a midpoint inserts one. With the map itself focused, Enter places a point at
 * the map's centre (the crosshair), so the whole editor works from the keyboard.
 */
export class FenceEditor {
  private readonly map: L.Map;
  private readonly hooks: FenceEditorHooks;
  private readonly group = L.layerGroup();
  private readonly view: FenceView;
  private state: EditorState | null = null;
  private shape: FenceShape | null = null;
  private handles: L.Marker[] = [];
  /** While drawing: the dashed line from the last point to the pointer (and back to the first). */
  private readonly rubber: L.Polyline;
  private readonly crossing: L.Polyline;
  private readonly sizeTip: L.Tooltip;
  private cursor: L.LatLng | null = null;
  private circleDone = false;
  private invalidEdges: [number, number] | null = null;
  private invalid = false;
  private dblclickTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;

  constructor(map: L.Map, hooks: FenceEditorHooks) {
    this.map = map;
    this.hooks = hooks;
    this.view = new FenceView(map, this.group, { interactive: false, pane: "overlayPane" });
    this.rubber = L.polyline([], {
      interactive: false,
      weight: 2,
      dashArray: "4 6",
      opacity: 0.9,
    });
    this.crossing = L.polyline([], {
      interactive: false,
      color: "#dc2626",
      weight: 5,
      opacity: 0.9,
      lineCap: "round",
    });
    this.sizeTip = L.tooltip({
      permanent: true,
      direction: "right",
      offset: [14, 0],
      className: "locus-size-tip",
    });
    this.group.addTo(map);
  }

  /** Start drawing, or show a shape with its handles. Called when the draft starts or changes. */
  open(state: EditorState): void {
    this.close();
    this.state = state;
    this.shape = state.shape;
    this.circleDone = false;
    if (state.phase === "drawing") {
      clearTimeout(this.dblclickTimer);
      this.map.on(this.drawEvents);
      this.map.doubleClickZoom.disable();
      this.map.getContainer().classList.add("locus-drawing");
      this.map.getContainer().addEventListener("keydown", this.onDrawKey);
      this.rubber.setStyle({ color: state.color });
      this.group.addLayer(this.rubber);
      this.render();
    } else {
      this.render();
      this.buildHandles();
    }
  }

  /** New colour or validity from the form, without rebuilding anything. */
  restyle(color: string, invalid: boolean, edges: [number, number] | null): void {
    if (!this.state) return;
    this.state = { ...this.state, color };
    this.invalid = invalid;
    this.invalidEdges = edges;
    this.rubber.setStyle({ color });
    this.render();
  }

  close(): void {
    const wasDrawing = this.drawing;
    this.map.off(this.drawEvents);
    if (wasDrawing) {
      // The double-click that ends a drawing is still on its way: zooming on it would be a
      // surprise. Zoom by double-click comes back a moment later.
      clearTimeout(this.dblclickTimer);
      this.dblclickTimer = setTimeout(() => {
        if (!this.destroyed && !this.drawing) this.map.doubleClickZoom.enable();
      }, 500);
    }
    const container = this.map.getContainer();
    container.classList.remove("locus-drawing");
    container.removeEventListener("keydown", this.onDrawKey);
    this.clearHandles();
    this.view.remove();
    this.group.clearLayers();
    this.rubber.setLatLngs([]);
    this.crossing.setLatLngs([]);
    this.sizeTip.remove();
    this.state = null;
    this.shape = null;
    this.cursor = null;
  }

  destroy(): void {
    this.close();
    this.destroyed = true;
    clearTimeout(this.dblclickTimer);
    this.group.remove();
  }

  get drawing(): boolean {
    return this.state?.phase === "drawing";
  }

  /** Finish drawing now (the draw bar's button); false when the shape is not complete yet. */
  finish(): boolean {
    const shape = this.shape;
    if (!this.drawing || !shape) return false;
    if (shape.type !== "circle" && this.points(shape).length < MIN_POINTS[shape.type]) return false;
    this.hooks.finish();
    return true;
  }

  /** Take back the last point placed while drawing. */
  undo(): void {
    const shape = this.shape;
    if (!this.drawing || !shape) return;
    if (shape.type === "circle") {
      this.emit(null);
    } else {
      const points = this.points(shape).slice(0, -1);
      this.emit(points.length ? this.withPoints(shape, points) : null);
    }
    this.render();
  }

  // ---- drawing -----------------------------------------------------------------------------

  private readonly drawEvents: L.LeafletEventHandlerFnMap = {
    click: (e) => this.place((e as L.LeafletMouseEvent).latlng),
    dblclick: () => this.finish(),
    mousemove: (e) => {
      this.cursor = (e as L.LeafletMouseEvent).latlng;
      this.followCursor();
    },
    mouseout: () => {
      this.cursor = null;
      this.followCursor();
    },
    move: () => {
      // Keyboard drawing aims at the centre: the rubber band follows it as the map pans.
      if (!this.cursor) this.followCursor();
    },
  };

  private readonly onDrawKey = (event: KeyboardEvent): void => {
    // Only keys on the map itself: a focused handle or a control has its own.
    if (event.target !== this.map.getContainer()) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.place(this.map.getCenter());
    } else if (event.key === "Backspace") {
      event.preventDefault();
      this.undo();
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.hooks.cancel();
    }
  };

  /** A click (or Enter) at `at` while drawing. */
  private place(at: L.LatLng): void {
    const state = this.state;
    if (!state || state.phase !== "drawing") return;
    const p = vertex(at.lat, at.lng);
    const shape = this.shape;
    if (state.kind === "circle") {
      if (!shape || shape.type !== "circle") {
        const size = this.map.getSize();
        const mpp = metresPerPixel(p.lat, this.map.getZoom());
        const radius = niceMetres(Math.min(size.x, size.y) * DEFAULT_RADIUS_SHARE * mpp);
        this.emit({ type: "circle", center: p, radius });
        this.render();
        return;
      }
      // Second click: the radius is where the pointer is (Enter keeps the default).
      if (this.cursor) this.emit({ ...shape, radius: this.radiusTo(shape.center, at) });
      this.circleDone = true;
      this.finish();
      return;
    }
    const points = shape && shape.type !== "circle" ? this.points(shape) : [];
    const last = points.at(-1);
    if (last && this.pixelsBetween(last, p) < SAME_PX) {
      // The same point again: a corridor ends there (a polygon waits for its first corner).
      if (state.kind === "corridor") this.finish();
      return;
    }
    const first = points[0];
    if (
      state.kind === "polygon" &&
      first &&
      points.length >= MIN_POINTS.polygon &&
      this.pixelsBetween(first, p) < CLOSE_PX
    ) {
      this.finish();
      return;
    }
    const next = [...points, p];
    if (state.kind === "polygon") this.emit({ type: "polygon", ring: next });
    else {
      const width =
        shape?.type === "corridor"
          ? shape.width
          : niceMetres(DEFAULT_WIDTH_PX * metresPerPixel(p.lat, this.map.getZoom()));
      this.emit({ type: "corridor", line: next, width });
    }
    this.render();
  }

  private followCursor(): void {
    const state = this.state;
    const shape = this.shape;
    if (!state || state.phase !== "drawing") return;
    const aim = this.cursor ?? this.map.getCenter();
    if (shape?.type === "circle" && !this.circleDone && this.cursor) {
      this.shape = { ...shape, radius: this.radiusTo(shape.center, aim) };
      this.view.set(this.shape, this.look());
      this.showSize(aim, `radius ${formatDistance(this.shape.radius)}`);
      return;
    }
    if (!shape || shape.type === "circle") {
      this.rubber.setLatLngs([]);
      return;
    }
    const points = this.points(shape).map(toLatLng);
    const band = [points.at(-1)!, aim];
    if (shape.type === "polygon" && points.length >= 2) band.push(points[0]!);
    this.rubber.setLatLngs(band);
  }

  private radiusTo(center: LatLon, at: L.LatLng): number {
    return Math.max(5, Math.round(metresBetween(center, { lat: at.lat, lon: at.lng })));
  }

  private showSize(at: L.LatLng, text: string): void {
    this.sizeTip.setLatLng(at).setContent(text);
    if (!this.map.hasLayer(this.sizeTip)) this.sizeTip.addTo(this.map);
  }

  // ---- shape and handles -------------------------------------------------------------------

  private look() {
    return { color: this.state?.color ?? "#e4572e", draft: true, invalid: this.invalid };
  }

  /** Draw the shape as it is now; while drawing, its placed points too. */
  private render(): void {
    const shape = this.shape;
    const state = this.state;
    if (!state) return;
    if (!shape) {
      this.view.remove();
    } else if (shape.type === "polygon" && shape.ring.length < 3) {
      // Not an area yet: the corners placed so far, joined.
      this.view.set({ type: "corridor", line: shape.ring, width: 0 }, this.look());
    } else {
      this.view.set(shape, this.look());
    }
    if (state.phase === "drawing") {
      this.clearHandles();
      if (shape && shape.type !== "circle") {
        this.points(shape).forEach((p, i) => {
          const closable = i === 0 && shape.type === "polygon" && shape.ring.length >= 3;
          const marker = L.marker(toLatLng(p), {
            icon: handleIcon(closable ? "first" : "placed"),
            keyboard: false,
            interactive: closable,
            title: closable ? "Close the outline here" : "",
          });
          if (closable) marker.on("click", () => this.finish());
          this.addHandle(marker);
        });
      }
      if (shape?.type === "circle")
        this.showSize(toLatLng(shape.center), `radius ${formatDistance(shape.radius)}`);
      this.followCursor();
    } else {
      this.sizeTip.remove();
    }
    this.drawCrossing();
  }

  private drawCrossing(): void {
    const shape = this.shape;
    const edges = this.invalidEdges;
    if (!edges || shape?.type !== "polygon" || this.drawing) {
      this.crossing.remove();
      return;
    }
    const ring = shape.ring;
    const edge = (i: number) => [toLatLng(ring[i]!), toLatLng(ring[(i + 1) % ring.length]!)];
    if (edges.some((i) => i >= ring.length)) return;
    this.crossing.setLatLngs([edge(edges[0]), edge(edges[1])]);
    if (!this.group.hasLayer(this.crossing)) this.group.addLayer(this.crossing);
  }

  private buildHandles(): void {
    this.clearHandles();
    const shape = this.shape;
    if (!shape) return;
    if (shape.type === "circle") {
      this.addHandle(this.moveHandle(shape, "Move the circle"));
      this.addHandle(this.radiusHandle(shape));
      return;
    }
    const points = this.points(shape);
    const closed = shape.type === "polygon";
    const segments = closed ? points.length : points.length - 1;
    for (let i = 0; i < segments; i++) this.addHandle(this.midHandle(shape, i));
    points.forEach((_, i) => this.addHandle(this.vertexHandle(shape, i)));
    this.addHandle(this.moveHandle(shape, closed ? "Move the polygon" : "Move the corridor"));
  }

  private addHandle(marker: L.Marker): void {
    this.handles.push(marker);
    this.group.addLayer(marker);
  }

  private clearHandles(): void {
    for (const h of this.handles) this.group.removeLayer(h);
    this.handles = [];
  }

  private vertexHandle(
    shape: FenceShape & { type: "polygon" | "corridor" },
    index: number,
  ): L.Marker {
    const noun = shape.type === "polygon" ? "Corner" : "Point";
    const marker = this.handle(this.points(shape)[index]!, "vertex", `${noun} ${index + 1}`, [
      "drag to move",
      "arrow keys nudge",
      "Delete removes it",
    ]);
    marker.on("drag", () => {
      const at = marker.getLatLng();
      this.replacePoint(index, vertex(at.lat, at.lng), marker);
    });
    marker.on("dragend", () => this.buildHandles());
    marker.on("contextmenu", (e) => {
      L.DomEvent.preventDefault((e as L.LeafletMouseEvent).originalEvent);
      this.removePoint(index);
    });
    this.onKeys(marker, (event) => {
      if (event.key === "Delete" || event.key === "Backspace") {
        this.removePoint(index);
        return true;
      }
      return this.nudge(event, marker, (p) => this.replacePoint(index, p, marker));
    });
    return marker;
  }

  /** Halfway along segment `index`: drag it, click it or press Enter to add a point there. */
  private midHandle(shape: FenceShape & { type: "polygon" | "corridor" }, index: number): L.Marker {
    const points = this.points(shape);
    const a = points[index]!;
    const b = points[(index + 1) % points.length]!;
    const mid = { lat: (a.lat + b.lat) / 2, lon: (a.lon + b.lon) / 2 };
    const noun = shape.type === "polygon" ? "corner" : "point";
    const marker = this.handle(mid, "mid", `Add a ${noun} here`, ["drag or press Enter"]);
    let inserted = false;
    const insert = (p: LatLon) => {
      const current = this.shape;
      if (!current || current.type === "circle") return;
      const next = this.points(current).slice();
      if (inserted) next[index + 1] = p;
      else next.splice(index + 1, 0, p);
      inserted = true;
      this.emit(this.withPoints(current, next));
      this.render();
    };
    marker.on("drag", () => {
      const at = marker.getLatLng();
      insert(vertex(at.lat, at.lng));
    });
    marker.on("dragend", () => this.buildHandles());
    marker.on("click", () => {
      insert(mid);
      this.buildHandles();
    });
    this.onKeys(marker, (event) => {
      if (event.key !== "Enter" && event.key !== " ") return false;
      insert(mid);
      this.buildHandles();
      this.focusHandle(`${shape.type === "polygon" ? "Corner" : "Point"} ${index + 2}`);
      return true;
    });
    return marker;
  }

  private moveHandle(shape: FenceShape, label: string): L.Marker {
    const marker = this.handle(this.moveHandleAt(shape), "move", label, [
      "drag to move",
      "arrow keys nudge",
    ]);
    let start: { at: L.LatLng; shape: FenceShape } | null = null;
    marker.on("dragstart", () => {
      if (this.shape) start = { at: marker.getLatLng(), shape: this.shape };
    });
    marker.on("drag", () => {
      if (!start) return;
      const at = marker.getLatLng();
      this.moveTo(
        translateShape(start.shape, at.lat - start.at.lat, at.lng - start.at.lng),
        marker,
      );
    });
    marker.on("dragend", () => {
      start = null;
      this.buildHandles();
      this.focusHandle(label);
    });
    this.onKeys(marker, (event) => {
      const before = marker.getLatLng();
      return this.nudge(event, marker, (p) => {
        const current = this.shape;
        if (current) {
          this.moveTo(translateShape(current, p.lat - before.lat, p.lon - before.lng), marker);
        }
      });
    });
    return marker;
  }

  private radiusHandle(shape: FenceShape & { type: "circle" }): L.Marker {
    const marker = this.handle(this.radiusPoint(shape), "radius", "Radius", [
      "drag to resize",
      "arrow keys resize",
    ]);
    marker.on("drag", () => {
      const current = this.shape;
      if (current?.type !== "circle") return;
      const radius = this.radiusTo(current.center, marker.getLatLng());
      this.emit({ ...current, radius });
      this.render();
      this.showSize(marker.getLatLng(), `radius ${formatDistance(radius)}`);
    });
    marker.on("dragend", () => {
      this.sizeTip.remove();
      this.buildHandles();
      this.focusHandle("Radius");
    });
    this.onKeys(marker, (event) => {
      const step = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[event.key];
      const current = this.shape;
      if (step === undefined || current?.type !== "circle") return false;
      const mpp = metresPerPixel(current.center.lat, this.map.getZoom());
      const radius = Math.max(
        5,
        Math.round(current.radius + step * NUDGE_PX * (event.shiftKey ? 5 : 1) * mpp),
      );
      this.emit({ ...current, radius });
      this.render();
      marker.setLatLng(toLatLng(this.radiusPoint({ ...current, radius })));
      return true;
    });
    return marker;
  }

  private radiusPoint(shape: FenceShape & { type: "circle" }): LatLon {
    const east = L.latLng(shape.center.lat, shape.center.lon)
      .toBounds(shape.radius * 2)
      .getEast();
    return { lat: shape.center.lat, lon: east };
  }

  /** A draggable handle that is also a focusable button with a name saying what it does. */
  private handle(
    at: LatLon,
    kind: "vertex" | "mid" | "move" | "radius",
    name: string,
    how: string[],
  ): L.Marker {
    const marker = L.marker(toLatLng(at), {
      icon: handleIcon(kind),
      draggable: true,
      keyboard: true,
      title: `${name}: ${how.join(", ")}`,
      // Above the vehicles: handles must win every click.
      zIndexOffset: kind === "move" ? 1000 : kind === "mid" ? 0 : 500,
    });
    marker.once("add", () => {
      const element = marker.getElement();
      element?.setAttribute("aria-label", name);
      element?.setAttribute("data-testid", `fence-${kind}`);
    });
    return marker;
  }

  private onKeys(marker: L.Marker, handle: (event: KeyboardEvent) => boolean): void {
    marker.once("add", () => {
      marker.getElement()?.addEventListener("keydown", (event) => {
        if (handle(event)) {
          event.preventDefault();
          event.stopPropagation();
        }
      });
    });
  }

  /** Arrow keys move a handle a few pixels; `apply` gets the new point. */
  private nudge(event: KeyboardEvent, marker: L.Marker, apply: (p: LatLon) => void): boolean {
    const delta = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] }[
      event.key
    ];
    if (!delta) return false;
    const step = NUDGE_PX * (event.shiftKey ? 5 : 1);
    const point = this.map
      .latLngToContainerPoint(marker.getLatLng())
      .add([delta[0]! * step, delta[1]! * step]);
    const at = this.map.containerPointToLatLng(point);
    marker.setLatLng(at);
    apply(vertex(at.lat, at.lng));
    this.afterNudge(marker);
    return true;
  }

  /** After a key moved something, the other handles follow (without losing the focus). */
  private afterNudge(focused: L.Marker): void {
    const label = focused.getElement()?.getAttribute("aria-label");
    this.buildHandles();
    if (label) this.focusHandle(label);
  }

  private focusHandle(label: string): void {
    for (const h of this.handles) {
      const el = h.getElement();
      if (el?.getAttribute("aria-label") === label) {
        el.focus();
        return;
      }
    }
  }

  private replacePoint(index: number, p: LatLon, dragged: L.Marker | null): void {
    const shape = this.shape;
    if (!shape || shape.type === "circle") return;
    const points = this.points(shape).slice();
    points[index] = p;
    this.emit(this.withPoints(shape, points));
    this.render();
    this.placeHandles(dragged);
  }

  private removePoint(index: number): void {
    const shape = this.shape;
    if (!shape || shape.type === "circle") return;
    const points = this.points(shape);
    if (points.length <= MIN_POINTS[shape.type]) return;
    this.emit(
      this.withPoints(
        shape,
        points.filter((_, i) => i !== index),
      ),
    );
    this.render();
    this.buildHandles();
    const noun = shape.type === "polygon" ? "Corner" : "Point";
    this.focusHandle(`${noun} ${Math.min(index + 1, points.length - 1)}`);
  }

  /** Move the whole shape; every handle but `dragged` (which the pointer moves) follows. */
  private moveTo(shape: FenceShape, dragged: L.Marker): void {
    this.emit(shape);
    this.render();
    this.placeHandles(dragged);
  }

  /** Keep every handle but `except` (under the pointer) where the shape puts it. */
  private placeHandles(except: L.Marker | null): void {
    const shape = this.shape;
    if (!shape) return;
    const targets = this.handleTargets(shape);
    if (targets.length !== this.handles.length) return;
    this.handles.forEach((h, i) => {
      if (h !== except) h.setLatLng(toLatLng(targets[i]!));
    });
  }

  /** Where each handle belongs, in the order buildHandles adds them. */
  private handleTargets(shape: FenceShape): LatLon[] {
    if (shape.type === "circle") return [shape.center, this.radiusPoint(shape)];
    const points = this.points(shape);
    const closed = shape.type === "polygon";
    const segments = closed ? points.length : points.length - 1;
    const mids: LatLon[] = [];
    for (let i = 0; i < segments; i++) {
      const a = points[i]!;
      const b = points[(i + 1) % points.length]!;
      mids.push({ lat: (a.lat + b.lat) / 2, lon: (a.lon + b.lon) / 2 });
    }
    return [...mids, ...points, this.moveHandleAt(shape)];
  }

  /**
   * Where the move handle goes: the middle of the shape, or a little below it when that is on
   * top of another handle (a straight corridor's midpoint, a corner).
   */
  private moveHandleAt(shape: FenceShape): LatLon {
    const centre = shapeCentre(shape);
    if (shape.type === "circle") return centre;
    const points = this.points(shape);
    const at = this.map.latLngToContainerPoint(toLatLng(centre));
    const others = [...points];
    for (let i = 0; i + 1 < points.length || (shape.type === "polygon" && i < points.length); i++) {
      const a = points[i]!;
      const b = points[(i + 1) % points.length]!;
      others.push({ lat: (a.lat + b.lat) / 2, lon: (a.lon + b.lon) / 2 });
    }
    const crowded = others.some(
      (p) => this.map.latLngToContainerPoint(toLatLng(p)).distanceTo(at) < 24,
    );
    if (!crowded) return centre;
    const below = this.map.containerPointToLatLng(at.add([0, 34]));
    return { lat: below.lat, lon: below.lng };
  }

  private points(shape: FenceShape & { type: "polygon" | "corridor" }): LatLon[] {
    return shape.type === "polygon" ? shape.ring : shape.line;
  }

  private withPoints(
    shape: FenceShape & { type: "polygon" | "corridor" },
    points: LatLon[],
  ): FenceShape {
    return shape.type === "polygon" ? { ...shape, ring: points } : { ...shape, line: points };
  }

  private pixelsBetween(a: LatLon, b: LatLon): number {
    return this.map
      .latLngToContainerPoint(toLatLng(a))
      .distanceTo(this.map.latLngToContainerPoint(toLatLng(b)));
  }

  private emit(shape: FenceShape | null): void {
    this.shape = shape;
    this.hooks.change(shape);
  }
}
