// Notifications: a step the person takes (a button), never a permission prompt on page load.
// Each device subscribes with the server's VAPID public key and sends its subscription to /me/push.
// On every visit the phone checks its subscription (issue 13): made with another key than the server's (the
// instance folder was lost and a new key made), or marked broken by the server (the push service refused it),
// it unsubscribes and subscribes anew, telling the server which endpoint the new one replaces.
(function () {
  "use strict";

  function urlBase64ToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, serverKey) {
    var key = subscription.options && subscription.options.applicationServerKey;
    if (!key) return true;  // a browser that does not say: the server's broken flag still catches a mismatch
    var mine = new Uint8Array(key), theirs = urlBase64ToBytes(serverKey);
    if (mine.length !== theirs.length) return false;
    for (var i = 0; i < mine.length; i++) if (mine[i] !== theirs[i]) return false;
    return true;
  }

  function show(card, name) {
    ["push-off", "push-subscribe", "push-on", "push-denied", "push-install", "push-failed", "push-unavailable",
      "push-taken"]
      .forEach(function (cls) {
        var el = card.querySelector("." + cls);
        if (el) el.hidden = true;
      });
    (name || []).forEach(function (cls) { var el = card.querySelector("." + cls); if (el) el.hidden = false; });
    card.hidden = false;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Resolves to the server's answer {id, broken}; rejects with .status (409: someone else's, still signed in).
  function send(card, subscription, replaces) {
    var body = subscription.toJSON();
    if (replaces) body.replaces = replaces;
    return fetch(card.dataset.subscribeUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) { var error = new Error("subscribe " + response.status); error.status = response.status; throw error; }
      return response.json();
    });
  }

  function newSubscription(registration, card) {
    return registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: urlBase64ToBytes(card.dataset.vapidKey),
    });
  }

  // A subscription the push service refuses: drop it on the phone, make a new one, tell the server.
  function renew(card, registration, old) {
    return old.unsubscribe().catch(function () { return false; })
      .then(function () { return newSubscription(registration, card); })
      .then(function (fresh) { return send(card, fresh, old.endpoint); });
  }

  // 409: someone else's subscription on this phone. A DOMException comes from the browser's own push service
  // (pushManager.subscribe: none reachable, or none at all, as in some browsers without Google services); anything
  // else is the request to the app (no signal, a server error), which another try with signal can mend.
  function failed(card, error) {
    if (error && error.status === 409) { show(card, ["push-taken"]); return; }
    if (error && error.status === 401) { window.location.reload(); return; }  // signed out meanwhile: to sign-in
    var browsers = typeof DOMException !== "undefined" && error instanceof DOMException;
    show(card, ["push-off", "push-subscribe", browsers ? "push-unavailable" : "push-failed"]);
  }

  function subscribe(card) {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { show(card, ["push-denied"]); return; }
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.getSubscription().then(function (existing) {
          if (existing && !sameKey(existing, card.dataset.vapidKey)) return renew(card, registration, existing);
          return (existing ? Promise.resolve(existing) : newSubscription(registration, card))
            .then(function (subscription) {
              return send(card, subscription).then(function (answer) {
                return answer.broken ? renew(card, registration, subscription) : answer;
              });
            });
        });
      }).then(function () { show(card, ["push-on"]); });
    }).catch(function (error) { failed(card, error); });
  }

  function setUp(card) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      show(card, ["push-install"]);  // e.g. iOS Safari outside an installed home-screen app
      return;
    }
    if (Notification.permission === "denied") { show(card, ["push-denied"]); return; }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription().then(function (existing) {
        if (existing && Notification.permission === "granted") {
          // Known on this phone: make sure the server has it, and that the push service still takes it.
          var checked = !sameKey(existing, card.dataset.vapidKey) ? renew(card, registration, existing)
            : send(card, existing).then(function (answer) {
              return answer.broken ? renew(card, registration, existing) : answer;
            });
          checked.catch(function (error) { if (error && error.status === 409) show(card, ["push-taken"]); });
          if (card.closest("#main") && document.body.dataset.page !== "profile") card.hidden = true;
          else show(card, ["push-on"]);
        } else {
          show(card, ["push-off", "push-subscribe"]);
        }
      });
    });
    card.querySelector(".push-subscribe").addEventListener("click", function () { subscribe(card); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".push-setup").forEach(setUp);
  });
})();
