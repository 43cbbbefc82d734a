import * as L from "leaflet";
import type { DeviceStatus } from "../../../../protocol/index.ts";
import { sampleVehicle, type Fleet, type Vehicle } from "../state/fleet.svelte.ts";
import { STATUS_COLOR, STATUS_ORDER } from "../status.ts";
import { OUTLINE_COLOR, selectedVehicle, vehicleLabel, vehicleShape } from "./glyphs.ts";
import { SpriteBlitter } from "./sprites.ts";
import { worldToLatLng } from "../geo/projection.ts";

const PANE = "locus-vehicles";
/** Clicks within this many CSS pixels of a vehicle select it. */
const HIT_RADIUS = 12;
/** Vehicles this far outside the viewport are still drawn, so arrows do not pop at the edges. */
const CULL_MARGIN = 16;
/** Narrowest uncovered strip worth centring a followed vehicle in. */
const MIN_FREE_PX = 200;
/** Above this many vehicles in view, glyphs are stamped from pre-rasterised sprites (sprites.ts). */
const VECTOR_MAX_VEHICLES = 1500;
const STATUS_INDEX: Readonly<Record<DeviceStatus, number>> = { offline: 0, stopped: 1, moving: 2 };

export interface Insets {
  left: number;
  right: number;
  bottom: number;
}

export interface VehicleLayerOptions {
  fleet: Fleet;
  onSelect: (id: string) => void;
}

/**
 * Every vehicle on one canvas. DOM markers cost a node and a style recalculation per vehicle
 * per move; one canvas redraw of 5,000 arrows costs less than a frame. The layer draws only
 * while a glide is under way, the map moves or it follows a vehicle, and sleeps otherwise.
 *
 * Per frame it allocates nothing per vehicle: positions come from world pixels precomputed per
 * fix (geo/projection.ts) through one scale-and-offset derived from the map's pixel origin, screen
 * points go into reused typed arrays, and paths are batched into one fill per status colour.
 */
export class VehicleLayer extends L.Layer {
  private readonly fleet: Fleet;
  private readonly onSelect: (id: string) => void;
  private lmap: L.Map | null = null;
  private canvas: HTMLCanvasElement | null = null;
  private ctx: CanvasRenderingContext2D | null = null;
  private unsubscribe: (() => void) | null = null;
  private raf = 0;
  private zooming = false;
  private width = 0;
  private height = 0;
  private dpr = 1;
  // Screen positions of the last frame, indexed like fleet.list; `drawn` lists which are valid.
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);
  private drawn = new Int32Array(0);
  private drawnCount = 0;
  private lastDrawnAttr = -1;
  private readonly sprites = new SpriteBlitter();
  private selected: Vehicle | null = null;
  private selectedId: string | null = null;
  private hovered: Vehicle | null = null;
  private followId: string | null = null;
  private followPaused = false;
  /** Container pixels hidden behind floating cards. */
  private insets: Insets = { left: 0, right: 0, bottom: 0 };

  constructor(options: VehicleLayerOptions) {
    super();
    this.fleet = options.fleet;
    this.onSelect = options.onSelect;
  }

  override onAdd(map: L.Map): this {
    this.lmap = map;
    const pane = map.getPane(PANE) ?? map.createPane(PANE);
    // Above trails (overlayPane, 400), below popups and markers.
    pane.style.zIndex = "450";
    const canvas = L.DomUtil.create("canvas", "locus-vehicle-canvas leaflet-zoom-animated", pane);
    canvas.setAttribute("data-testid", "vehicle-canvas");
    canvas.setAttribute("data-drawn", "0");
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    map.on(this.mapEvents);
    this.unsubscribe = this.fleet.onChange(() => this.redraw());
    this.resize();
    this.redraw();
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off(this.mapEvents);
    this.unsubscribe?.();
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.canvas?.remove();
    this.canvas = this.ctx = this.lmap = null;
    return this;
  }

  setSelected(id: string | null): void {
    this.selectedId = id;
    this.redraw();
  }

  /** Keep the map centred on this vehicle (null stops following). */
  setFollow(id: string | null): void {
    this.followId = id;
    this.redraw();
  }

  /** Centre followed vehicles in the part of the map not covered by cards. */
  setInsets(insets: Insets): void {
    this.insets = { ...insets };
    this.redraw();
  }

  /**
   * Where followed vehicles are centred, relative to the container's centre: the middle of the
   * uncovered area, unless the cards leave too little of it to bother.
   */
  centreOffset(): L.Point {
    const { left, right, bottom } = this.insets;
    const freeX = this.width - left - right;
    const freeY = this.height - bottom;
    return L.point(
      freeX >= MIN_FREE_PX ? (left - right) / 2 : 0,
      freeY >= MIN_FREE_PX ? -bottom / 2 : 0,
    );
  }

  /** Hold following while the map flies somewhere, resuming at the end of that move. */
  pauseFollowUntilMoveEnd(): void {
    this.followPaused = true;
    this.lmap?.once("moveend", () => {
      this.followPaused = false;
      this.redraw();
    });
  }

  /** Where the vehicle is drawn right now (mid-glide, not its latest fix). */
  displayedLatLng(id: string): L.LatLng | null {
    const v = this.fleet.get(id);
    if (!v?.position) return null;
    sampleVehicle(v, performance.now());
    return L.latLng(worldToLatLng(v.x, v.y));
  }

  /** Ask for a frame; any number of calls before it runs cost one frame. */
  redraw(): void {
    if (!this.raf && this.lmap) this.raf = requestAnimationFrame(this.frame);
  }

  private readonly mapEvents: L.LeafletEventHandlerFnMap = {
    move: () => this.redraw(),
    zoom: () => this.redraw(),
    viewreset: () => this.redraw(),
    moveend: () => this.redraw(),
    resize: () => {
      this.resize();
      this.redraw();
    },
    zoomanim: (e) => this.animateZoom(e as L.ZoomAnimEvent),
    zoomend: () => {
      this.zooming = false;
      this.redraw();
    },
    click: (e) => {
      const v = this.hit((e as L.LeafletMouseEvent).containerPoint);
      if (v) this.onSelect(v.id);
    },
    mousemove: (e) => this.hover(this.hit((e as L.LeafletMouseEvent).containerPoint)),
    mouseout: () => this.hover(null),
  };

  private readonly frame = (now: number): void => {
    this.raf = 0;
    // During a zoom animation the canvas is scaled by CSS; redrawing now would fight it.
    if (!this.lmap || !this.ctx || this.zooming) return;
    const following = this.follow(now);
    const gliding = this.draw(now);
    if (following || gliding) this.redraw();
  };

  private resize(): void {
    if (!this.lmap || !this.canvas) return;
    const size = this.lmap.getSize();
    this.dpr = window.devicePixelRatio || 1;
    this.width = size.x;
    this.height = size.y;
    this.canvas.width = Math.round(size.x * this.dpr);
    this.canvas.height = Math.round(size.y * this.dpr);
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
  }

  /** Same transform as L.Map.latLngToContainerPoint, minus its rounding and allocations. */
  private transform(): { k: number; dx: number; dy: number; topLeft: L.Point } {
    const map = this.lmap!;
    const k = map.getZoomScale(map.getZoom(), 0);
    const origin = map.getPixelOrigin();
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    return { k, dx: -origin.x - topLeft.x, dy: -origin.y - topLeft.y, topLeft };
  }

  /** Pan towards the followed vehicle; true while still catching up. */
  private follow(now: number): boolean {
    const v = this.followId ? this.fleet.get(this.followId) : undefined;
    if (!v?.position || this.followPaused || !this.lmap) return false;
    sampleVehicle(v, now);
    const { k, dx, dy } = this.transform();
    const centre = this.centreOffset();
    const offX = v.x * k + dx - this.width / 2 - centre.x;
    const offY = v.y * k + dy - this.height / 2 - centre.y;
    if (Math.abs(offX) > this.width || Math.abs(offY) > this.height) {
      this.lmap.setView(worldToLatLng(v.x, v.y), this.lmap.getZoom(), { animate: false });
      return false;
    }
    const distance = Math.hypot(offX, offY);
    if (distance < 0.5) return false;
    // Ease in from afar, lock on when close: no jump when following starts, no lag after.
    const step = distance < 3 ? 1 : 0.2;
    this.lmap.panBy([offX * step, offY * step], { animate: false });
    return distance >= 3;
  }

  private ensureCapacity(n: number): void {
    if (this.xs.length >= n) return;
    const size = Math.max(n, this.xs.length * 2, 256);
    this.xs = new Float32Array(size);
    this.ys = new Float32Array(size);
    this.drawn = new Int32Array(size);
  }

  /**
   * Each status is two fills: a slightly larger white arrow as the outline, then the colour.
   * Stroking would be simpler, but a software-rasterised canvas (no GPU) takes ~80 ms a frame
   * to stroke 5,000 arrows.
   */
  private fillAll(scale: number): void {
    const ctx = this.ctx!;
    const { xs, ys, drawn, drawnCount } = this;
    const list = this.fleet.list;
    for (const status of STATUS_ORDER) {
      const want = STATUS_INDEX[status];
      for (const outline of [true, false]) {
        ctx.beginPath();
        for (let j = 0; j < drawnCount; j++) {
          const i = drawn[j]!;
          const v = list[i]!;
          if (STATUS_INDEX[v.status] === want) vehicleShape(ctx, v, xs[i]!, ys[i]!, scale, outline);
        }
        ctx.fillStyle = outline ? OUTLINE_COLOR : STATUS_COLOR[status];
        ctx.fill();
      }
    }
  }

  /** The crowded case: the same glyphs from sprites, in the same paint order. */
  private stampAll(scale: number): void {
    const { xs, ys, drawn, drawnCount, sprites, dpr } = this;
    const list = this.fleet.list;
    sprites.begin(this.ctx!, this.canvas!.width, this.canvas!.height, dpr);
    for (const status of STATUS_ORDER) {
      const want = STATUS_INDEX[status];
      for (let j = 0; j < drawnCount; j++) {
        const i = drawn[j]!;
        const v = list[i]!;
        if (STATUS_INDEX[v.status] === want) sprites.stamp(v, xs[i]!, ys[i]!, scale);
      }
    }
    sprites.end(this.ctx!);
  }

  /** Draw one frame; true while any vehicle is still gliding. */
  private draw(now: number): boolean {
    const ctx = this.ctx!;
    const list = this.fleet.list;
    const n = list.length;
    this.ensureCapacity(n);
    const { k, dx, dy, topLeft } = this.transform();
    // The canvas lives in the map pane, which moves while panning: pin it to the container.
    L.DomUtil.setPosition(this.canvas!, topLeft);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);

    const { xs, ys, drawn } = this;
    const minX = -CULL_MARGIN;
    const minY = -CULL_MARGIN;
    const maxX = this.width + CULL_MARGIN;
    const maxY = this.height + CULL_MARGIN;
    const gliding = now < this.fleet.animatingUntil;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = list[i]!;
      if (!v.position) continue;
      if (gliding) sampleVehicle(v, now);
      else if (v.x !== v.toX || v.y !== v.toY) sampleVehicle(v, now);
      const x = v.x * k + dx;
      const y = v.y * k + dy;
      if (x < minX || x > maxX || y < minY || y > maxY) continue;
      xs[i] = x;
      ys[i] = y;
      drawn[count++] = i;
    }
    this.drawnCount = count;

    // Smaller arrows when zoomed out, where vehicles crowd together.
    const scale = k >= 2 ** 12 ? 1 : 0.75;
    if (count > VECTOR_MAX_VEHICLES) this.stampAll(scale);
    else this.fillAll(scale);

    this.selected = this.selectedId ? (this.fleet.get(this.selectedId) ?? null) : null;
    if (this.hovered && this.hovered !== this.selected && this.isDrawn(this.hovered)) {
      vehicleLabel(ctx, this.hovered, xs[this.hovered.index]!, ys[this.hovered.index]!, this.width);
    }
    const sel = this.selected;
    if (sel && this.isDrawn(sel))
      selectedVehicle(ctx, sel, xs[sel.index]!, ys[sel.index]!, this.width);

    if (count !== this.lastDrawnAttr) {
      this.canvas!.setAttribute("data-drawn", String(count));
      this.lastDrawnAttr = count;
    }
    return now < this.fleet.animatingUntil;
  }

  private isDrawn(v: Vehicle): boolean {
    const i = v.index;
    // A vehicle dropped by a resync may have handed its index to another one.
    if (this.fleet.list[i] !== v) return false;
    for (let j = 0; j < this.drawnCount; j++) if (this.drawn[j] === i) return true;
    return false;
  }

  /** Nearest vehicle drawn in the last frame within HIT_RADIUS of a container point. */
  private hit(point: L.Point): Vehicle | null {
    let best = -1;
    let bestD2 = HIT_RADIUS * HIT_RADIUS;
    for (let j = 0; j < this.drawnCount; j++) {
      const i = this.drawn[j]!;
      const ddx = this.xs[i]! - point.x;
      const ddy = this.ys[i]! - point.y;
      const d2 = ddx * ddx + ddy * ddy;
      if (d2 <= bestD2) {
        bestD2 = d2;
        best = i;
      }
    }
    return best >= 0 ? (this.fleet.list[best] ?? null) : null;
  }

  private hover(v: Vehicle | null): void {
    if (v === this.hovered) return;
    this.hovered = v;
    if (this.canvas) this.canvas.style.cursor = v ? "pointer" : "";
    this.redraw();
  }

  /** Scale the last frame along with Leaflet's zoom animation, as its own renderers do. */
  private animateZoom(e: L.ZoomAnimEvent): void {
    const map = this.lmap;
    if (!map || !this.canvas) return;
    this.zooming = true;
    const scale = map.getZoomScale(e.zoom, map.getZoom());
    const topLeftLatLng = map.containerPointToLatLng([0, 0]);
    const mapPanePos = L.DomUtil.getPosition(map.getPane("mapPane")!);
    const newPixelOrigin = map
      .project(e.center, e.zoom)
      .subtract(map.getSize().divideBy(2))
      .add(mapPanePos)
      .round();
    const offset = map.project(topLeftLatLng, e.zoom).subtract(newPixelOrigin);
    L.DomUtil.setTransform(this.canvas, offset, scale);
  }
}
