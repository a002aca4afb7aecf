// Registers the service worker and shows when the phone is offline. No inline script anywhere (CSP).
(function () {
  "use strict";

  function showNetworkState() {
    var badge = document.getElementById("net-status");
    if (badge) badge.hidden = navigator.onLine;
  }
  window.addEventListener("online", showNetworkState);
  window.addEventListener("offline", showNetworkState);
  document.addEventListener("DOMContentLoaded", showNetworkState);

  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    // The cached offline page speaks the language of the page the person last saw.
    var lang = document.documentElement.lang;
    if (registration.active && localStorage.getItem("fieldapp.offlineLang") !== lang) {
      registration.active.postMessage({ type: "refresh-offline-page" });
      localStorage.setItem("fieldapp.offlineLang", lang);
    }
  }).catch(function (error) {
    console.warn("service worker registration failed", error);
  });
})();

// Check-in tiles: "I am wearing all of it" ticks every tile; "I don't have it" unticks that tile.
document.addEventListener("change", function (event) {
  var input = event.target, form = input.form;
  if (!form) return;
  if (input.name === "all_worn" && input.checked) {
    form.querySelectorAll('input[name="have"]').forEach(function (box) { box.checked = true; });
    form.querySelectorAll('input[name="missing"]').forEach(function (box) { box.checked = false; });
  } else if (input.name === "missing" && input.checked) {
    var have = form.querySelector('input[name="have"][value="' + input.value + '"]');
    if (have) have.checked = false;
    var all = form.querySelector('input[name="all_worn"]');
    if (all) all.checked = false;
  } else if (input.name === "have" && input.checked) {
    var missing = form.querySelector('input[name="missing"][value="' + input.value + '"]');
    if (missing) missing.checked = false;
  }
});

// Signing out forgets the pages kept for offline use (phones are often shared on a site).
document.addEventListener("submit", function (event) {
  if (event.target.matches("form.sign-out") && navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: "forget-pages" });
  }
});
