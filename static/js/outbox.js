// The outbox on the page: forms marked data-outbox are kept on the phone (IndexedDB, outbox-core.js) until
// the server confirms them. Each carries a UUID, so sending one again never makes a second record.
// Photos are shrunk in the browser first (long edge 2048 px) and kept as blobs with the form.
// No inline script (CSP).
(function () {
  "use strict";
  var core = window.fieldappOutboxCore;
  var RETRY_MS = 30000, LONG_EDGE = 2048;
  var live = {};  // uuid -> "sending" while this page sends it

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function showCount(items) {
    var status = document.getElementById("outbox-status");
    if (!status) return;
    var waiting = items.filter(function (i) { return i.state === "pending"; }).length;
    var failed = items.filter(function (i) { return i.state === "failed"; }).length;
    var parts = [];
    if (waiting) parts.push(status.dataset.waiting.replace("{count}", waiting));
    if (failed) parts.push(status.dataset.failed.replace("{count}", failed));
    status.textContent = parts.join(" · ");
    status.hidden = parts.length === 0;
    document.documentElement.dataset.outbox = String(waiting);
  }

  // The report page lists what this phone made: waiting, sending, sent or needing attention.
  function showList(items) {
    document.querySelectorAll(".outbox-list").forEach(function (list) {
      var path = new URL(list.closest("section").querySelector("form[data-outbox]").action).pathname;
      var mine = items.filter(function (i) { return new URL(i.url, location.href).pathname === path; })
        .sort(function (a, b) { return a.createdAt < b.createdAt ? 1 : -1; });
      list.textContent = "";
      mine.forEach(function (item) {
        var state = live[item.uuid] || (item.state === "pending" ? "waiting" : item.state);
        var li = document.createElement("li");
        li.className = "row outbox-item state-" + state;
        li.dataset.uuid = item.uuid;
        var when = new Date(item.createdAt);
        var name = document.createElement("span");
        name.textContent = (item.label || "") + " " + when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        var badge = document.createElement("span");
        badge.className = "badge outbox-state";
        badge.textContent = list.dataset[state] || state;
        li.appendChild(name); li.appendChild(badge);
        if (item.state === "failed" && item.error) {
          var why = document.createElement("p");
          why.className = "error"; why.textContent = item.error;
          li.appendChild(why);
        }
        list.appendChild(li);
      });
    });
  }

  function refresh() {
    return core.all().then(function (items) { showCount(items); showList(items); return items; })
      .catch(function () { return []; });  // no IndexedDB: nothing to show
  }

  function onChange(uuid, state) {
    if (state === "sending") live[uuid] = "sending"; else delete live[uuid];
    if (state === "sent") {
      // This page's own form went through later (the signal came back): show the page as it now is.
      var mine = Array.prototype.some.call(document.querySelectorAll("form[data-outbox]:not([data-outbox-reset])"),
        function (form) { var input = form.querySelector("input[name=uuid]"); return input && input.value === uuid; });
      if (mine) { window.location.reload(); return; }
    }
    refresh();
  }

  function flush() { return core.flush(csrfToken(), onChange).finally(refresh); }

  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, LONG_EDGE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size < 1500000) { bitmap.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      var ctx = canvas.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });  // the server handles what the browser cannot
  }

  function collect(form) {
    var entries = [];
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") return;  // sent in the header instead
      if (value instanceof File && !value.size) return;  // an empty file input
      entries.push([key, value]);
    });
    return Promise.all(entries.map(function (entry) {
      var value = entry[1];
      if (!(value instanceof File)) return Promise.resolve(entry);
      return shrink(value).then(function (blob) {
        return [entry[0], blob, (value.name || "photo").replace(/\.[^.]*$/, "") + ".jpg"];
      });
    }));
  }

  function queue(form) {
    return collect(form).then(function (fields) {
      var madeAt = new Date().toISOString();  // when it happened, not when it reached the server
      fields = fields.filter(function (f) { return f[0] !== "made_at"; });
      fields.push(["made_at", madeAt]);
      var uuid = (fields.filter(function (f) { return f[0] === "uuid"; })[0] || [])[1];
      var item = { uuid: uuid, url: form.action, fields: fields, createdAt: madeAt, state: "pending",
                   label: form.dataset.outboxLabel || "", csrf: csrfToken() };
      return core.put(item).then(function () { return item; });
    });
  }

  function askForBackgroundSync() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register("outbox");
    }).catch(function () { /* not supported: the page's own retries remain */ });
  }

  function newUuid(form) {
    var input = form.querySelector("input[name=uuid]");
    if (input && window.crypto && crypto.randomUUID) input.value = crypto.randomUUID();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-outbox") || !window.indexedDB || !core) return;  // plain form post
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    queue(form).then(function (item) {
      if (form.hasAttribute("data-outbox-reset")) {
        // Ready for the next report at once: a new UUID, empty fields, no previews.
        form.reset(); newUuid(form);
        form.dispatchEvent(new CustomEvent("outbox:queued", { bubbles: true }));
        if (button) button.disabled = false;
      }
      return flush().then(function () { return core.all(); }).then(function (items) {
        var mine = items.filter(function (i) { return i.uuid === item.uuid; })[0];
        if (mine && mine.state === "sent") return;  // onChange has reloaded the page where that is wanted
        // Not sent now: let the browser send it when the signal returns, even with the app closed.
        if (mine && mine.state === "pending") askForBackgroundSync();
        var note = form.parentNode.querySelector(".outbox-note");
        if (note && mine && mine.state !== "sent") note.hidden = false;
        if (note && mine && mine.state === "failed") note.textContent = mine.error;
      });
    }).catch(function () {
      form.removeAttribute("data-outbox");  // IndexedDB refused: send it the ordinary way
      form.submit();
    });
  });

  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
  document.addEventListener("DOMContentLoaded", function () {
    // A fresh UUID for every page load: a page opened again from the service worker's cache must not
    // reuse the one it was rendered with (that record was made already). Within one load, a second
    // tap sends the same UUID, which the server saves once.
    document.querySelectorAll("form[data-outbox]").forEach(newUuid);
    if (core) { refresh(); flush(); }
  });
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "outbox-changed") refresh();
    });
  }
  setInterval(function () { if (navigator.onLine && core) flush(); }, RETRY_MS);
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
  window.fieldappOutbox = { flush: flush, all: function () { return core.all(); } };
})();
