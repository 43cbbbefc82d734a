import * as L from "leaflet";
import { worldToLatLng } from "../geo/projection.ts";
import { sampleVehicle, type Fleet, type Vehicle } from "../state/fleet.svelte.ts";
import { DrawnVehicles } from "./drawn-vehicles.ts";
import { FollowCamera, type Insets, type ScreenTransform } from "./follow-camera.ts";
import { highlightRing, selectedVehicle, vehicleLabel } from "./glyphs.ts";
import { SpriteBlitter } from "./sprites.ts";
import { paintVehicles } from "./vehicle-painter.ts";

const PANE = "locus-vehicles";
/** Vehicles this far outside the viewport are still drawn, so arrows do not pop at the edges. */
const CULL_MARGIN = 16;

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
 * fix (geo/projection.ts) through one scale-and-offset derived from the map's pixel origin,
 * screen points go into reused typed arrays (drawn-vehicles.ts, which also answers clicks), and
 * paths are batched into one fill per status colour (vehicle-painter.ts). Following a vehicle
 * is follow-camera.ts.
 */
export class VehicleLayer extends L.Layer {
  private readonly fleet: Fleet;
  private readonly onSelect: (id: string) => void;
  private readonly camera: FollowCamera;
  private readonly drawn = new DrawnVehicles();
  private readonly sprites = new SpriteBlitter();
  private lmap: L.Map | null = null;
  private canvas: HTMLCanvasElement | null = null;
  private ctx: CanvasRenderingContext2D | null = null;
  private unsubscribe: (() => void) | null = null;
  private raf = 0;
  private zooming = false;
  private width = 0;
  private height = 0;
  private dpr = 1;
  private lastDrawnAttr = -1;
  private selectedId: string | null = null;
  private hovered: Vehicle | null = null;
  /** Vehicles an event just concerned: id → until when (Date.now()) they pulse. */
  private highlights: ReadonlyMap<string, number> = new Map();

  constructor(options: VehicleLayerOptions) {
    super();
    this.fleet = options.fleet;
    this.onSelect = options.onSelect;
    this.camera = new FollowCamera(options.fleet);
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

  /** Pulse a ring around these vehicles until the given times (Date.now()). */
  setHighlights(highlights: ReadonlyMap<string, number>): void {
    this.highlights = highlights;
    this.redraw();
  }

  /** The vehicle drawn under this container point, if any. */
  vehicleAt(point: L.Point): string | null {
    return this.drawn.hit(this.fleet.list, point.x, point.y)?.id ?? null;
  }

  /** Keep the map centred on this vehicle (null stops following). */
  setFollow(id: string | null): void {
    this.camera.setFollow(id);
    this.redraw();
  }

  /** Centre followed vehicles in the part of the map not covered by cards. */
  setInsets(insets: Insets): void {
    this.camera.setInsets(insets);
    this.redraw();
  }

  /** Where followed vehicles are centred, relative to the container's centre. */
  centreOffset(): L.Point {
    return this.camera.centreOffset(L.point(this.width, this.height));
  }

  /** Hold following while the map flies somewhere, resuming at the end of that move. */
  pauseFollowUntilMoveEnd(): void {
    if (this.lmap) this.camera.pauseUntilMoveEnd(this.lmap, () => this.redraw());
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
      const { x, y } = (e as L.LeafletMouseEvent).containerPoint;
      const v = this.drawn.hit(this.fleet.list, x, y);
      if (v) this.onSelect(v.id);
    },
    mousemove: (e) => {
      const { x, y } = (e as L.LeafletMouseEvent).containerPoint;
      this.hover(this.drawn.hit(this.fleet.list, x, y));
    },
    mouseout: () => this.hover(null),
  };

  private readonly frame = (now: number): void => {
    this.raf = 0;
    // During a zoom animation the canvas is scaled by CSS; redrawing now would fight it.
    if (!this.lmap || !this.ctx || this.zooming) return;
    const following = this.camera.step(this.lmap, now, this.transform());
    const gliding = this.draw(now);
    if (following || gliding || this.highlights.size > 0) this.redraw();
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
  private transform(): ScreenTransform & { topLeft: L.Point } {
    const map = this.lmap!;
    const k = map.getZoomScale(map.getZoom(), 0);
    const origin = map.getPixelOrigin();
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    return { k, dx: -origin.x - topLeft.x, dy: -origin.y - topLeft.y, topLeft };
  }

  /** Draw one frame; true while any vehicle is still gliding. */
  private draw(now: number): boolean {
    const ctx = this.ctx!;
    const list = this.fleet.list;
    const n = list.length;
    const { k, dx, dy, topLeft } = this.transform();
    // The canvas lives in the map pane, which moves while panning: pin it to the container.
    L.DomUtil.setPosition(this.canvas!, topLeft);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);

    const drawn = this.drawn;
    drawn.begin(n);
    const minX = -CULL_MARGIN;
    const minY = -CULL_MARGIN;
    const maxX = this.width + CULL_MARGIN;
    const maxY = this.height + CULL_MARGIN;
    const gliding = now < this.fleet.animatingUntil;
    for (let i = 0; i < n; i++) {
      const v = list[i]!;
      if (!v.position) continue;
      if (gliding) sampleVehicle(v, now);
      else if (v.x !== v.toX || v.y !== v.toY) sampleVehicle(v, now);
      const x = v.x * k + dx;
      const y = v.y * k + dy;
      if (x < minX || x > maxX || y < minY || y > maxY) continue;
      drawn.add(i, x, y);
    }

    // Under the arrows: rings around the vehicles an event just concerned.
    if (this.highlights.size > 0) {
      const wall = Date.now();
      for (const [id, until] of this.highlights) {
        const v = this.fleet.get(id);
        if (!v || until < wall || !drawn.has(list, v)) continue;
        highlightRing(ctx, drawn.xs[v.index]!, drawn.ys[v.index]!, now);
      }
    }

    // Smaller arrows when zoomed out, where vehicles crowd together.
    const scale = k >= 2 ** 12 ? 1 : 0.75;
    paintVehicles(ctx, list, drawn, scale, this.sprites, this.dpr);

    const selected = this.selectedId ? (this.fleet.get(this.selectedId) ?? null) : null;
    const hovered = this.hovered;
    if (hovered && hovered !== selected && drawn.has(list, hovered)) {
      vehicleLabel(ctx, hovered, drawn.xs[hovered.index]!, drawn.ys[hovered.index]!, this.width);
    }
    if (selected && drawn.has(list, selected)) {
      const i = selected.index;
      selectedVehicle(ctx, selected, drawn.xs[i]!, drawn.ys[i]!, this.width);
    }

    if (drawn.count !== this.lastDrawnAttr) {
      this.canvas!.setAttribute("data-drawn", String(drawn.count));
      this.lastDrawnAttr = drawn.count;
    }
    return now < this.fleet.animatingUntil;
  }

  private hover(v: Vehicle | null): void {
    if (v === this.hovered) return;
    this.hovered = v;
    // The canvas lets the pointer through to the fences under it (app.css): the map's
    // container shows the hand instead.
    this.lmap?.getContainer().classList.toggle("locus-vehicle-hover", v !== null);
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
