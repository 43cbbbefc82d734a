import type { FenceShape, Geofence } from "../../../../protocol/geofence.ts";
import * as api from "../api.ts";
import type { FenceProblem, checkFence as CheckFence } from "../fence-rules.ts";
import { DEFAULT_FENCE_COLOR, FENCE_COLORS, msToKmh } from "../fence-units.ts";
import { geofences } from "./geofences.svelte.ts";

export type FenceKind = FenceShape["type"];
/** Drawing: clicks on the map place the shape. Editing: the shape has handles to drag. */
export type DraftPhase = "drawing" | "editing";

export const KIND_LABEL: Readonly<Record<FenceKind, string>> = {
  circle: "Circle",
  polygon: "Polygon",
  corridor: "Corridor",
};

/**
 * The fence an admin is drawing or editing: its shape (shared by the map's editor and the form)
 * and its fields. The map writes the shape as the admin drags (`fromMap`); the form writes it
 * too (a radius typed in), and bumps `rev` so the map rebuilds its handles.
 */
class FenceDraft {
  active = $state(false);
  /** The fence being edited, or null for a new one. */
  id = $state<number | null>(null);
  kind = $state<FenceKind>("polygon");
  phase = $state<DraftPhase>("drawing");
  shape = $state.raw<FenceShape | null>(null);
  name = $state("");
  color = $state<string>(DEFAULT_FENCE_COLOR);
  /** km/h; null: no limit of its own. */
  speedKmh = $state<number | null>(null);
  /** Bumped whenever the shape changes other than by a drag on the map. */
  rev = $state(0);
  saving = $state(false);
  /** The server's reason for refusing the last save ("shape.ring: must not …"). */
  serverError = $state<string | null>(null);
  /** The admin pressed Save once: from then on every problem shows, not only the shape's. */
  attempted = $state(false);

  /**
   * The protocol's checks (fence-rules.ts), fetched with zod the first time an editor opens, so
   * the dashboard's first paint does not carry them.
   */
  private rules = $state.raw<typeof CheckFence | null>(null);
  private rulesLoading: Promise<void> | null = null;

  /** The request to send, or the first rule the draft breaks (protocol/geofence.ts). */
  readonly check = $derived.by((): ReturnType<typeof CheckFence> => {
    const form = { name: this.name, color: this.color, speedKmh: this.speedKmh, shape: this.shape };
    if (this.rules) return this.rules(form);
    const loading: FenceProblem = { field: "rules", text: "Loading the geofence rules…" };
    return { problem: loading };
  });

  /** Fetch the checks (once); a failed fetch is tried again at the next editor. */
  loadRules(): Promise<void> {
    this.rulesLoading ??= import("../fence-rules.ts").then(
      (m) => {
        this.rules = m.checkFence;
      },
      (error: unknown) => {
        this.rulesLoading = null;
        this.serverError = `Cannot load the geofence rules: ${api.describeError(error)}`;
      },
    );
    return this.rulesLoading;
  }

  private original: Geofence | null = null;

  /** Whether saving would change anything (always, for a new fence). */
  get dirty(): boolean {
    const o = this.original;
    if (!o) return true;
    const speed = o.speedLimit === null ? null : msToKmh(o.speedLimit);
    return (
      this.name !== o.name ||
      this.color.toLowerCase() !== o.color.toLowerCase() ||
      (this.speedKmh ?? null) !== speed ||
      JSON.stringify(this.shape) !== JSON.stringify(o.shape)
    );
  }

  /** Start a new fence: the next clicks on the map draw it. */
  startNew(kind: FenceKind): void {
    void this.loadRules();
    this.original = null;
    this.id = null;
    this.name = "";
    this.color = nextColor();
    this.speedKmh = null;
    this.draw(kind);
  }

  /** Open a stored fence with its handles. */
  startEdit(fence: Geofence): void {
    void this.loadRules();
    this.original = fence;
    this.id = fence.id;
    this.kind = fence.shape.type;
    this.phase = "editing";
    this.shape = fence.shape;
    this.name = fence.name;
    this.color = fence.color;
    this.speedKmh = fence.speedLimit === null ? null : msToKmh(fence.speedLimit);
    this.serverError = null;
    this.attempted = false;
    this.active = true;
    this.rev++;
  }

  /** Draw the shape (again), as this kind; the name, colour and limit stay. */
  draw(kind: FenceKind): void {
    this.kind = kind;
    this.phase = "drawing";
    this.shape = null;
    this.serverError = null;
    this.active = true;
    this.rev++;
  }

  /** Whether the shape drawn so far can be finished (a centre, 3 corners, 2 points). */
  get canFinish(): boolean {
    const shape = this.shape;
    if (!shape) return false;
    if (shape.type === "circle") return true;
    return shape.type === "polygon" ? shape.ring.length >= 3 : shape.line.length >= 2;
  }

  /** Points placed so far while drawing. */
  get placed(): number {
    const shape = this.shape;
    if (!shape) return 0;
    return shape.type === "circle"
      ? 1
      : shape.type === "polygon"
        ? shape.ring.length
        : shape.line.length;
  }

  /** Take back the last point placed while drawing. */
  undoPoint(): void {
    const shape = this.shape;
    if (!shape || this.phase !== "drawing") return;
    if (shape.type === "circle") this.shape = null;
    else if (shape.type === "polygon")
      this.shape = shape.ring.length > 1 ? { ...shape, ring: shape.ring.slice(0, -1) } : null;
    else this.shape = shape.line.length > 1 ? { ...shape, line: shape.line.slice(0, -1) } : null;
    this.rev++;
  }

  /** Stop drawing: a new fence is dropped, a stored one goes back to its saved shape. */
  cancelDrawing(): void {
    if (this.phase !== "drawing") return;
    const original = this.original;
    if (!original) {
      this.close();
      return;
    }
    this.kind = original.shape.type;
    this.shape = original.shape;
    this.phase = "editing";
    this.rev++;
  }

  /** The map's editor placed the whole shape: handles from now on. */
  finishDrawing(): void {
    if (!this.canFinish || this.phase !== "drawing") return;
    this.phase = "editing";
    this.rev++;
  }

  /** A drag or a click on the map changed the shape (the map already shows it). */
  fromMap(shape: FenceShape | null): void {
    this.shape = shape;
    this.serverError = null;
  }

  /** The form changed the shape (a radius, a width): the map redraws its handles. */
  fromForm(shape: FenceShape): void {
    this.shape = shape;
    this.serverError = null;
    this.rev++;
  }

  close(): void {
    this.active = false;
    this.original = null;
    this.shape = null;
    this.saving = false;
    this.serverError = null;
    this.attempted = false;
    this.rev++;
  }

  /** Create or update the fence; true when the server took it (the editor then closes). */
  async save(): Promise<boolean> {
    this.attempted = true;
    await this.loadRules();
    const check = this.check;
    if ("problem" in check || this.saving) return false;
    this.saving = true;
    this.serverError = null;
    try {
      const saved =
        this.id === null
          ? await api.createGeofence(check.body)
          : await api.updateGeofence(this.id, check.body);
      geofences.upsert(saved);
      this.close();
      void geofences.load();
      return true;
    } catch (error) {
      this.serverError = api.describeError(error);
      return false;
    } finally {
      this.saving = false;
    }
  }
}

/** A colour no fence uses yet, so a new fence stands out from its neighbours. */
function nextColor(): string {
  const used = new Set(geofences.list.map((f) => f.color.toLowerCase()));
  return FENCE_COLORS.find((c) => !used.has(c)) ?? DEFAULT_FENCE_COLOR;
}

export const fenceDraft = new FenceDraft();
