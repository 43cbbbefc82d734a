// Locus's service worker: shows the Web Push messages the server sends for its rules (see
// docs/push.md), even with no dashboard tab open, and brings the dashboard up on a click. Plain
// JavaScript served as is from the web root, so its scope is the whole dashboard.

self.addEventListener("install", () => {
  // Nothing to cache: a new version may take over at once.
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", (event) => {
  let message;
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data ? event.data.text() : "" };
  }
  const title = message.title || "Locus";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || "",
      // One notification per event: a message delivered twice (a retry) replaces the first.
      tag: message.eventId ? `locus-event-${message.eventId}` : undefined,
      icon: "/favicon.svg",
      timestamp: message.ts,
      data: { url: message.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/", self.registration.scope).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
      if (!open) {
        await self.clients.openWindow(target);
        return;
      }
      await open.focus();
      // The dashboard selects the vehicle without a reload (state/push.svelte.ts listens).
      open.postMessage({ type: "locus:show", url: target });
    })(),
  );
});
