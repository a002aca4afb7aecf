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
