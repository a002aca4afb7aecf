// The phone's clock against the server's. The server's clock is the record (fieldapp/phone_time.py); a phone
// whose clock is off makes records that lists mark as "recorded later", so the person is told to fix it.
// - Measures (phone minus server) from the Date header of a small request, corrected for the round trip:
//   the server's time is taken to be the middle of the round trip (the header has whole seconds: +0.5 s).
// - Shows a banner when it is off by more than 2 minutes (text from this script tag's data attributes, in
//   the person's language).
// - Puts the measured error in forms that make a record on the phone (those with a made_at field) as
//   clock_offset_ms, so that the server can correct the phone's time; the server still bounds it.
// No inline script (CSP).
(function () {
  "use strict";
  var LIMIT_MS = 2 * 60 * 1000;
  var KEY = "fieldapp.clockOffset";
  var KEEP_MS = 12 * 3600 * 1000;  // a measurement older than this is not used for records
  var AGAIN_MS = 60 * 1000;  // at most one measurement a minute
  var script = document.currentScript;
  var texts = script ? script.dataset : {};
  var lastTry = 0;

  function stored() {
    try {
      var value = JSON.parse(localStorage.getItem(KEY) || "null");
      if (value && typeof value.offset === "number" && Math.abs(Date.now() - value.at) < KEEP_MS) return value.offset;
    } catch (e) { /* storage unavailable or damaged: no measurement */ }
    return null;
  }

  function remember(offset) {
    try { localStorage.setItem(KEY, JSON.stringify({ offset: offset, at: Date.now() })); } catch (e) { /* private mode */ }
  }

  function show(offset) {
    var banner = document.getElementById("clock-warning");
    var off = offset !== null && Math.abs(offset) > LIMIT_MS;
    if (!off) { if (banner) banner.remove(); return; }
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "clock-warning";
      banner.className = "warning clock-warning";
      banner.setAttribute("role", "alert");
      var anchor = document.getElementById("outbox-status") || document.querySelector("header");
      if (anchor && anchor.parentNode) anchor.parentNode.insertBefore(banner, anchor.nextSibling);
      else document.body.insertBefore(banner, document.body.firstChild);
    }
    var minutes = Math.round(Math.abs(offset) / 60000);
    banner.dataset.offsetMs = String(Math.round(offset));
    banner.textContent = (texts.clockWarning || "The phone's clock is {minutes} min off.").replace("{minutes}", minutes)
      + " " + (texts.clockFix || "");
  }

  function measure() {
    if (!window.fetch || navigator.onLine === false || Date.now() - lastTry < AGAIN_MS && lastTry) return;
    lastTry = Date.now();
    var before = Date.now();
    fetch("/healthz", { cache: "no-store", credentials: "omit" }).then(function (response) {
      var after = Date.now();
      var header = response.headers.get("Date");
      var server = header ? Date.parse(header) : NaN;
      if (isNaN(server) || after < before || after - before > 30000) return;  // no answer to trust
      var offset = (before + after) / 2 - (server + 500);
      remember(offset);
      show(offset);
    }).catch(function () { /* no signal: the last measurement stands */ });
  }

  // Capture phase: runs before outbox.js queues the form, so the value travels with the item.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.querySelector || !form.querySelector("input[name=made_at]")) return;
    var input = form.querySelector("input[name=clock_offset_ms]");
    var offset = stored();
    if (offset === null) { if (input) input.remove(); return; }
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "clock_offset_ms";
      form.appendChild(input);
    }
    input.value = String(Math.round(offset));
  }, true);

  function start() { show(stored()); measure(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  document.addEventListener("visibilitychange", function () { if (!document.hidden) measure(); });
  window.addEventListener("online", measure);
  window.fieldappClock = { offset: stored, measure: function () { lastTry = 0; measure(); } };
})();
