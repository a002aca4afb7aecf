// Notifications: a step the person takes (a button), never a permission prompt on page load.
// Each device subscribes with the server's VAPID public key and sends its subscription to /me/push.
(function () {
  "use strict";

  function urlBase64ToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function show(card, name) {
    ["push-off", "push-subscribe", "push-on", "push-denied", "push-install", "push-failed"].forEach(function (cls) {
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

  function send(card, subscription) {
    return fetch(card.dataset.subscribeUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    }).then(function (response) { if (!response.ok) throw new Error("subscribe " + response.status); });
  }

  function subscribe(card) {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { show(card, ["push-denied"]); return; }
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.getSubscription().then(function (existing) {
          return existing || registration.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: urlBase64ToBytes(card.dataset.vapidKey),
          });
        });
      }).then(function (subscription) {
        return send(card, subscription).then(function () { show(card, ["push-on"]); });
      });
    }).catch(function () { show(card, ["push-off", "push-subscribe", "push-failed"]); });
  }

  function setUp(card) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      show(card, ["push-install"]);  // e.g. iOS Safari outside an installed home-screen app
      return;
    }
    if (Notification.permission === "denied") { show(card, ["push-denied"]); return; }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (existing) {
      if (existing && Notification.permission === "granted") {
        // Known on this phone: make sure the server has it (it may have been removed there).
        send(card, existing).catch(function () { /* offline: next time */ });
        if (card.closest("#main") && document.body.dataset.page !== "profile") card.hidden = true;
        else show(card, ["push-on"]);
      } else {
        show(card, ["push-off", "push-subscribe"]);
      }
    });
    card.querySelector(".push-subscribe").addEventListener("click", function () { subscribe(card); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".push-setup").forEach(setUp);
  });
})();
