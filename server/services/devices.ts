import { timingSafeEqual } from "node:crypto";
import {
  deviceRequestSchemas,
  type AdminDevice,
  type AdminGroup,
  type UpdateDeviceRequest,
} from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { DeviceRecord, DeviceStore } from "../stores/ports.ts";
import { parseDeviceId, toAdminDevice } from "./device-shapes.ts";
import { badRequest, conflict, LocusError, notFound, parseRequest } from "./errors.ts";
import type { Origin } from "./origin.ts";
import { hash, newSecret } from "./secrets.ts";

/** What happened to a device, for the live hub and the transports holding its connections. */
export type DeviceChange =
  | { type: "added"; device: DeviceRecord }
  | { type: "updated"; device: DeviceRecord; before: DeviceRecord }
  | { type: "removed"; deviceId: string };

/** What a device presents to report: its id and, unless allowed without, its token. */
export interface DeviceCredentials {
  deviceId?: unknown;
  token?: unknown;
}

/**
 * Devices: who may report, under which name, in which groups. Every transport, the admin API and
 * the CLI register, authenticate, rename, group and remove devices here, so they cannot disagree.
 *
 * The directory is this process's memory of every device (names and groups for the live map and
 * for "may this user see it"). Every change made through this service updates it at once, and a
 * device it does not know is looked up in the store (the CLI, another process, may have added it),
 * so it can lag the database but never contradict it. Credentials are always read from the store.
 */
export class DeviceService {
  private readonly directory = new Map<string, DeviceRecord>();
  private readonly listeners = new Set<(change: DeviceChange, origin: Origin) => void>();
  /** Devices being removed: a report that raced the removal must not bring them back. */
  private readonly removing = new Set<string>();

  constructor(
    private readonly store: DeviceStore,
    private readonly clock: Clock,
    private readonly options: { openRegistration: boolean },
  ) {}

  /** Fill the directory from the store (at start). */
  async load(): Promise<void> {
    for (const d of await this.store.list()) this.directory.set(d.deviceId, d);
  }

  onChange(listener: (change: DeviceChange, origin: Origin) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The device as this process knows it, without I/O (undefined: not known here yet). */
  known(deviceId: string): DeviceRecord | undefined {
    return this.directory.get(deviceId);
  }

  /** Every device this process knows. */
  all(): IterableIterator<DeviceRecord> {
    return this.directory.values();
  }

  /** Groups the device belongs to ([] when unknown). */
  groupsOf(deviceId: string): readonly string[] {
    return this.directory.get(deviceId)?.groups ?? [];
  }

  /**
   * The device as stored, or null when it does not exist. Brings the directory in line: a device
   * another process (the CLI) added is learnt, one it removed is let go of.
   */
  async find(deviceId: string): Promise<DeviceRecord | null> {
    const stored = await this.store.get(deviceId);
    if (stored) this.learn(stored);
    else if (this.directory.delete(deviceId)) this.emit({ type: "removed", deviceId });
    return stored;
  }

  /**
   * Decide whether a device may report, and as whom: a device with a token must present it,
   * unless an admin allowed it to report by identifier alone (phone apps that cannot send a
   * secret); a token that is presented is always checked. A device without one is let in only
   * with open registration (trusted networks), off by default. Throws the refusal.
   */
  async authenticate(credentials: DeviceCredentials): Promise<string> {
    const deviceId = parseDeviceId(credentials.deviceId, "deviceId", "invalid_device_id");
    const token = credentials.token;
    if (token !== undefined && (typeof token !== "string" || token.length > 256)) {
      throw new LocusError("invalid_token", "must be a string of at most 256 characters", {
        field: "token",
      });
    }
    const stored = await this.store.get(deviceId);
    if (stored) this.learn(stored);
    const presented = token !== undefined && token !== "";
    if (stored?.idOnly && (!presented || !stored.tokenHash)) return deviceId;
    if (!stored?.tokenHash) {
      if (this.options.openRegistration) return deviceId;
      throw new LocusError(
        "unknown_device",
        `device "${deviceId}" is not registered; an admin adds it with \`npm run locus -- device add ${deviceId}\``,
      );
    }
    if (!presented) {
      throw new LocusError("token_required", `device "${deviceId}" must send its token`);
    }
    const given = Buffer.from(hash(token), "hex");
    if (!timingSafeEqual(given, Buffer.from(stored.tokenHash, "hex"))) {
      throw new LocusError("invalid_token", `wrong token for device "${deviceId}"`);
    }
    return deviceId;
  }

  /** Make sure an authenticated device exists before its fixes are stored (first report, import). */
  async ensure(deviceId: string): Promise<void> {
    if (this.directory.has(deviceId)) return;
    if (this.removing.has(deviceId)) {
      throw new LocusError("unauthorized", `device "${deviceId}" has been removed`);
    }
    await this.store.ensure(deviceId, this.clock.now());
    const stored = await this.store.get(deviceId);
    if (stored) this.learn(stored);
  }

  /**
   * Register a device (or, for one that exists, replace its token) and return the new token: the
   * only time it is seen. A token is 32 random bytes stored only as its SHA-256.
   */
  async register(request: unknown): Promise<{ device: DeviceRecord; token: string }> {
    const { deviceId, ...settings } = parseRequest(deviceRequestSchemas.add, request);
    const token = newSecret("lct_");
    const device = await this.update(deviceId, { ...settings, tokenHash: hash(token) });
    return { device, token };
  }

  /** Rename, regroup or switch id-only reporting; registers the device when it is new. */
  change(deviceId: string, request: unknown): Promise<DeviceRecord> {
    return this.update(
      parseDeviceId(deviceId, "id"),
      parseRequest(deviceRequestSchemas.update, request),
    );
  }

  private async update(
    deviceId: string,
    request: UpdateDeviceRequest & { tokenHash?: string },
  ): Promise<DeviceRecord> {
    const { speedLimitKmh, ...changes } = request;
    if (changes.groups) await this.checkGroupsExist(changes.groups);
    const before = await this.find(deviceId);
    const device = await this.store.update(
      deviceId,
      {
        ...changes,
        ...(speedLimitKmh !== undefined && {
          speedLimit: speedLimitKmh === null ? null : speedLimitKmh / 3.6,
        }),
      },
      this.clock.now(),
    );
    this.directory.set(deviceId, device);
    this.emit(before ? { type: "updated", device, before } : { type: "added", device });
    return device;
  }

  /** With the number of stored positions removing it would delete. */
  async detail(deviceId: string): Promise<AdminDevice & { positions: number }> {
    const device = await this.mustFind(deviceId);
    return { ...toAdminDevice(device), positions: await this.store.countPositions(deviceId) };
  }

  /**
   * Remove a device with its whole history. Its connections end and it leaves every dashboard
   * first, so nothing it sends meanwhile is stored. Resolves with the positions deleted.
   */
  async remove(deviceId: string): Promise<number> {
    await this.mustFind(deviceId);
    this.removing.add(deviceId);
    try {
      this.directory.delete(deviceId);
      this.emit({ type: "removed", deviceId });
      const removed = await this.store.remove(deviceId);
      if (removed === null) throw notFound(`no device "${deviceId}"`);
      return removed;
    } finally {
      this.removing.delete(deviceId);
    }
  }

  /** Every device, from the store (devices another process added included). */
  async list(): Promise<DeviceRecord[]> {
    const devices = await this.store.list();
    for (const d of devices) if (!this.directory.has(d.deviceId)) this.learn(d);
    return devices;
  }

  async groups(): Promise<AdminGroup[]> {
    const devices = await this.list();
    return (await this.store.groups()).map(({ name, createdAt }) => ({
      name,
      createdAt,
      devices: devices.filter((d) => d.groups.includes(name)).map((d) => d.deviceId),
    }));
  }

  async groupNames(): Promise<Set<string>> {
    return new Set((await this.store.groups()).map((g) => g.name));
  }

  async addGroup(request: unknown): Promise<AdminGroup> {
    const { name } = parseRequest(deviceRequestSchemas.addGroup, request);
    const now = this.clock.now();
    if (!(await this.store.createGroup(name, now))) {
      throw conflict(`a group named "${name}" already exists`);
    }
    return { name, createdAt: now, devices: [] };
  }

  /** Members leave it, grants naming it go; the devices stay. */
  async removeGroup(name: string): Promise<void> {
    const members = [...this.directory.values()].filter((d) => d.groups.includes(name));
    if (!(await this.store.removeGroup(name))) throw notFound(`no group named "${name}"`);
    for (const before of members) {
      const device = { ...before, groups: before.groups.filter((g) => g !== name) };
      this.directory.set(device.deviceId, device);
      this.emit({ type: "updated", device, before });
    }
  }

  /**
   * A device changed on another node of the cluster: the directory learns what the store now
   * holds (the message names only the device), and this node's listeners hear of it. A removal is
   * taken as said: the other node announces it before its delete is committed.
   */
  async adoptPeerChange(type: DeviceChange["type"], deviceId: string): Promise<void> {
    if (type === "removed") {
      this.directory.delete(deviceId);
      return this.emit({ type: "removed", deviceId }, "peer");
    }
    const device = await this.store.get(deviceId);
    const before = this.directory.get(deviceId);
    if (!device) {
      if (this.directory.delete(deviceId)) this.emit({ type: "removed", deviceId }, "peer");
      return;
    }
    this.directory.set(deviceId, device);
    this.emit(before ? { type: "updated", device, before } : { type: "added", device }, "peer");
  }

  /**
   * Bring the whole directory in line with the store, telling listeners what changed: after this
   * node missed the other nodes' announcements (the cluster's Redis was away).
   */
  async resync(): Promise<void> {
    const stored = new Map((await this.store.list()).map((d) => [d.deviceId, d]));
    for (const deviceId of [...this.directory.keys()]) {
      if (stored.has(deviceId)) continue;
      this.directory.delete(deviceId);
      this.emit({ type: "removed", deviceId }, "peer");
    }
    for (const device of stored.values()) {
      const before = this.directory.get(device.deviceId);
      this.directory.set(device.deviceId, device);
      if (!before) this.emit({ type: "added", device }, "peer");
      else if (before.name !== device.name || before.groups.join() !== device.groups.join()) {
        this.emit({ type: "updated", device, before }, "peer");
      }
    }
  }

  private async mustFind(deviceId: string): Promise<DeviceRecord> {
    const device = await this.find(deviceId);
    if (!device) throw notFound(`no device "${deviceId}"`);
    return device;
  }

  private async checkGroupsExist(groups: readonly string[]): Promise<void> {
    const existing = await this.groupNames();
    const missing = groups.find((g) => !existing.has(g));
    if (missing !== undefined) {
      throw badRequest("groups", `no group named "${missing}"; create it first`);
    }
  }

  /** A device this process had not seen: remember it and tell the live side. */
  private learn(device: DeviceRecord): void {
    const before = this.directory.get(device.deviceId);
    this.directory.set(device.deviceId, device);
    if (!before) this.emit({ type: "added", device });
  }

  private emit(change: DeviceChange, origin: Origin = "here"): void {
    for (const listener of this.listeners) listener(change, origin);
  }
}
