import * as api from "../api.ts";
import { selection } from "./selection.svelte.ts";

/** web/public/sw.js, at the root so its scope is the whole dashboard. */
const WORKER_URL = "/sw.js";

/**
 * Where "Notify me on this browser" stands: `unsupported` (no service workers or Push API, or not
 * HTTPS), `denied` (the user blocked notifications for this site: only the browser's settings
 * can undo it), `off`, `on`; `checking` until the first look.
 */
export type PushStatus = "checking" | "unsupported" | "denied" | "off" | "on";

function supported(): boolean {
  return (
    window.isSecureContext &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window
  );
}

/** base64url text as the bytes `applicationServerKey` wants. */
function bytesOf(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Browser notifications through Web Push: registers the service worker, asks permission,
 * subscribes with the server's key and tells the server (which then sends this browser the
 * events of the user's rules that push). Off undoes both sides. "On" means this browser holds a
 * subscription AND the server lists it as this user's: after another user signed in here, or
 * the push service dropped it, it reads off again.
 */
class BrowserPush {
  status = $state<PushStatus>("checking");
  busy = $state(false);
  error = $state<string | null>(null);
  /** While turning on or off: which, so the switch shows it until the outcome is known. */
  wanted = $state<boolean | null>(null);
  private started = false;

  /** Look once where things stand (the events tab shows the switch). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (!supported()) {
      this.status = "unsupported";
      return;
    }
    // A click on a notification while the dashboard is open selects the vehicle (sw.js).
    navigator.serviceWorker.addEventListener("message", (event: MessageEvent) => {
      const data = event.data as { type?: string; url?: string } | null;
      if (data?.type !== "locus:show" || !data.url) return;
      const device = new URL(data.url).searchParams.get("device");
      if (device) selection.select(device);
    });
    await this.run(async () => {
      const registration = await navigator.serviceWorker.register(WORKER_URL);
      if (Notification.permission === "denied") {
        this.status = "denied";
        return;
      }
      this.status = (await this.serverKnows(registration)) ? "on" : "off";
    });
  }

  async set(on: boolean): Promise<void> {
    if (this.busy || this.status === "unsupported") return;
    this.wanted = on;
    try {
      await this.run(() => (on ? this.turnOn() : this.turnOff()));
    } finally {
      // The switch shows the outcome again, even when that is where it was (a dismissed
      // permission prompt): it must not stay as the click left it.
      this.wanted = null;
    }
  }

  private async turnOn(): Promise<void> {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      this.status = permission === "denied" ? "denied" : "off";
      return;
    }
    await navigator.serviceWorker.register(WORKER_URL);
    const registration = await navigator.serviceWorker.ready;
    const key = await api.fetchPushKey();
    let subscription = await registration.pushManager.getSubscription();
    // Made with another server's key (the database was replaced): useless now.
    const made = subscription?.options.applicationServerKey;
    if (subscription && made && !sameBytes(new Uint8Array(made), bytesOf(key))) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription ??= await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: bytesOf(key),
    });
    await api.addPushSubscription(subscription.toJSON());
    this.status = "on";
  }

  private async turnOff(): Promise<void> {
    const registration = await navigator.serviceWorker.getRegistration(WORKER_URL);
    const subscription = await registration?.pushManager.getSubscription();
    if (subscription) {
      const mine = (await api.fetchPushSubscriptions()).find(
        (s) => s.endpoint === subscription.endpoint,
      );
      if (mine) await api.removePushSubscription(mine.id);
      await subscription.unsubscribe();
    }
    this.status = "off";
  }

  private async serverKnows(registration: ServiceWorkerRegistration): Promise<boolean> {
    const subscription = await registration.pushManager.getSubscription();
    if (!subscription) return false;
    const listed = await api.fetchPushSubscriptions();
    return listed.some((s) => s.endpoint === subscription.endpoint);
  }

  /** `work`, with `busy` set; when it fails, the error is shown and the status stays. */
  private async run(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await work();
    } catch (e) {
      this.error = api.describeError(e);
      if (this.status === "checking") this.status = "off";
    } finally {
      this.busy = false;
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export const browserPush = new BrowserPush();
