// Fieldapp HMS service worker: caches the app shell, serves an offline page for pages it does not have.
// Pages with personal data are never cached here (shared phones are common on sites).
"use strict";

// The server fills in the placeholders from fieldapp/static_files.py (the pages' own list and hashed names),
// so any change to a shell file installs anew and no file is fetched twice.
// The outbox's storage and sending, shared with the pages (static/js/outbox-core.js, put here by the server
// instead of importScripts, which Chrome fetches again on a first install): Background Sync sends what they queued.
/* __OUTBOX_CORE__ */

const SHELL_VERSION = "shell-__SHELL_HASH__";
const OFFLINE_URL = "/offline";
// The outbox page holds no person's data (its list comes from IndexedDB): kept like the offline page.
const OUTBOX_URL = "/outbox";
const SHELL_PAGES = [OFFLINE_URL, OUTBOX_URL];
// Hashed static files are immutable: taken from the HTTP cache when the page has just loaded them.
const SHELL_STATIC = __SHELL_STATIC__;

// Check-in and report pages are kept (network first) so that a worker in a basement can still check in: the page
// opens from here and its form waits in the outbox. Removed on sign-out. So is "My certificates" (issue 19): a
// certificate is photographed where there is often no signal.
const PAGES = "pages-v1";
const KEEP_PAGE = /^(\/s\/\d+\/(checkin|reports\/new|sja\/new|rounds\/new)|\/me\/competence)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_VERSION)
      .then((cache) => cache.addAll(SHELL_PAGES.map((url) => new Request(url, { cache: "reload" }))
        .concat(SHELL_STATIC.map((url) => new Request(url)))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL_VERSION && k !== PAGES).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "forget-pages") {
    // keep: the page that asked, when it is one to keep: fetched again for the person signed in now.
    const again = event.data.keep;
    event.waitUntil(caches.delete(PAGES).then(() => {
      if (!again || !KEEP_PAGE.test(again)) return undefined;
      return fetch(again, { credentials: "same-origin" })
        .then((response) => response.ok && !response.redirected && caches.open(PAGES).then((c) => c.put(again, response)))
        .catch(() => undefined);
    }));
  }
  if (event.data && event.data.type === "refresh-offline-page") {
    event.waitUntil(Promise.all(SHELL_PAGES.map((url) =>
      fetch(url, { cache: "no-store" })
        .then((response) => response.ok && caches.open(SHELL_VERSION).then((c) => c.put(url, response)))
        .catch(() => undefined))));
  }
});

// Background Sync: the browser wakes the worker when the signal returns, even with the app closed.
self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil(
    // The same sender as the pages' (one at a time through the Web Lock), with today's session cookie:
    // no token saved at queue time, and only the items of the person signed in now (outbox-core.js).
    self.fieldappOutboxCore.flush(null).then((summary) => {
      self.clients.matchAll().then((clients) => clients.forEach((c) => c.postMessage({ type: "outbox-changed" })));
      // Ask to be woken again while anything could not be sent for want of signal. Items waiting for
      // their person to sign in are sent by the page after that sign-in, not by retrying here.
      if (summary.retry) throw new Error("outbox: still waiting for the network");
    })
  );
});

// Push: show the alert. Stop work stays until touched and vibrates hard; a touch opens the alert.
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: event.data && event.data.text() }; }
  const stop = data.level === "stop_work";
  const options = {
    body: data.body || "",
    tag: data.tag || "fieldapp",
    renotify: true,
    requireInteraction: stop,
    vibrate: stop ? [600, 200, 600, 200, 600] : [200, 100, 200],
    icon: "/static/icons/icon-any-192.png",
    badge: "/static/icons/icon-any-192.png",
    data: { url: data.url || "/alerts" },
  };
  const shown = self.registration.showNotification(data.title || "HMS", options);
  // Tell the server the phone got it (the sender sees "received"); not needed for showing it.
  const receipt = data.url ? fetch(data.url + "/received", { method: "POST", credentials: "same-origin" })
    .catch(() => undefined) : Promise.resolve();
  event.waitUntil(Promise.all([shown, receipt]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || "/alerts", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((clients) => {
      // An open window of the app shows the alert (navigate needs no user gesture); else a new one opens.
      const open = clients.find((client) => client.url === target) || clients.find((client) => "navigate" in client);
      if (open) {
        const shown = open.url === target ? Promise.resolve(open) : open.navigate(target);
        return shown.then((client) => client && client.focus && client.focus().catch(() => client));
      }
      return self.clients.openWindow(target);
    })
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    // Network first: pages carry current alerts. Without signal: a kept page, else the offline page.
    const keep = KEEP_PAGE.test(url.pathname);
    const shellPage = SHELL_PAGES.includes(url.pathname);
    event.respondWith(
      fetch(request).then((response) => {
        if ((keep || shellPage) && response.ok && !response.redirected) {
          // Inside waitUntil: the worker is kept alive until the copy is written.
          const copy = response.clone();
          event.waitUntil(caches.open(keep ? PAGES : SHELL_VERSION).then((cache) => cache.put(url.pathname, copy)));
        }
        return response;
      }).catch(() => (keep || shellPage ? caches.match(url.pathname, { ignoreVary: true }) : Promise.resolve(undefined))
        .then((hit) => hit || caches.match(OFFLINE_URL, { ignoreVary: true })))
    );
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    // The shell: from the cache when there, else the network, kept for next time (a page's own scripts,
    // htmx, the manifest: so that a kept page opens without signal).
    event.respondWith(
      caches.match(request, { ignoreSearch: true, ignoreVary: true }).then((hit) => hit || fetch(request).then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(SHELL_VERSION).then((cache) => cache.put(request, copy)));
        }
        return response;
      }))
    );
  }
});

// Issue 13: the browser renewed or dropped the push subscription (the push service expired it, or keys
// changed). Subscribe again with the server's key and post it, naming the endpoint it replaces; the server's
// key and a CSRF token come from /me/push/key, as a service worker has no page to read them from. Not signed
// in, or offline: push.js does the same on the next visit.
function pushKeyBytes(text) {
  const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

self.addEventListener("pushsubscriptionchange", (event) => {
  const old = event.oldSubscription;
  event.waitUntil(
    fetch("/me/push/key", { credentials: "same-origin", cache: "no-store", redirect: "error" })
      .then((response) => {
        if (!response.ok) throw new Error("push key " + response.status);
        return response.json();
      })
      .then((server) => (event.newSubscription ? Promise.resolve(event.newSubscription)
        : self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: pushKeyBytes(server.key) }))
        .then((subscription) => fetch("/me/push", {
          method: "POST", credentials: "same-origin", redirect: "error",
          headers: { "Content-Type": "application/json", "X-CSRFToken": server.csrf },
          body: JSON.stringify(Object.assign(subscription.toJSON(), old ? { replaces: old.endpoint } : {})),
        })))
      .catch(() => undefined)
  );
});
