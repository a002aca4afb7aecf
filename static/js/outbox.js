// The outbox: forms marked data-outbox are kept on the phone (IndexedDB) until the server confirms them.
// Each carries a UUID made when the page was rendered, so sending one again never makes a second record.
// Nothing is removed before a 2xx answer; 4xx answers stay as "needs attention". No inline script (CSP).
(function () {
  "use strict";
  var DB = "fieldapp", STORE = "outbox", RETRY_MS = 30000;
  var sending = false;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "uuid" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result;
        Promise.resolve(work(tx.objectStore(STORE))).then(function (r) { result = r; });
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function all() {
    return withStore("readonly", function (store) {
      return new Promise(function (resolve) {
        var request = store.getAll();
        request.onsuccess = function () { resolve(request.result || []); };
      });
    });
  }

  function put(item) { return withStore("readwrite", function (store) { store.put(item); }); }
  function remove(uuid) { return withStore("readwrite", function (store) { store.delete(uuid); }); }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function showCount(items) {
    var status = document.getElementById("outbox-status");
    if (!status) return;
    var waiting = items.filter(function (i) { return i.state !== "failed"; }).length;
    var failed = items.length - waiting;
    var parts = [];
    if (waiting) parts.push(status.dataset.waiting.replace("{count}", waiting));
    if (failed) parts.push(status.dataset.failed.replace("{count}", failed));
    status.textContent = parts.join(" · ");
    status.hidden = items.length === 0;
    document.documentElement.dataset.outbox = String(waiting);
  }

  function refresh() { return all().then(showCount).catch(function () { /* no IndexedDB: nothing to show */ }); }

  function send(item) {
    var body = new URLSearchParams(item.fields);
    return fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRFToken": csrfToken(), "X-Outbox": "1" },
    }).then(function (response) {
      if (response.ok) return remove(item.uuid).then(function () { return "sent"; });
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        return response.text().then(function (message) {
          item.state = "failed"; item.error = message; item.status = response.status;
          return put(item).then(function () { return "failed"; });
        });
      }
      return "retry";  // 5xx, 408, 429: try again later
    }, function () { return "retry"; });  // no signal
  }

  function flush() {
    if (sending) return Promise.resolve([]);
    sending = true;
    return all().then(function (items) {
      var pending = items.filter(function (i) { return i.state !== "failed"; })
        .sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : 1; });
      var results = [];
      return pending.reduce(function (chain, item) {
        return chain.then(function () { return send(item).then(function (r) { results.push(r); }); });
      }, Promise.resolve()).then(function () { return results; });
    }).finally(function () {
      sending = false;
      refresh();
    });
  }

  function queue(form) {
    var fields = {};
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") return;  // the current page's token is sent instead
      if (fields[key] === undefined) fields[key] = value;
      else fields[key] = [].concat(fields[key], value);
    });
    fields.made_at = new Date().toISOString();  // when it happened, not when it reached the server
    var pairs = [];
    Object.keys(fields).forEach(function (key) {
      [].concat(fields[key]).forEach(function (value) { pairs.push([key, value]); });
    });
    var item = { uuid: fields.uuid, url: form.action, fields: pairs, createdAt: fields.made_at, state: "pending" };
    return put(item).then(function () { return item; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-outbox") || !window.indexedDB) return;  // plain form post without it
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    queue(form).then(function (item) {
      return flush().then(function () { return all(); }).then(function (items) {
        var still = items.some(function (i) { return i.uuid === item.uuid; });
        if (!still) { window.location.reload(); return; }
        var note = form.parentNode.querySelector(".outbox-note");
        if (note) note.hidden = false;
        var failed = items.filter(function (i) { return i.uuid === item.uuid && i.state === "failed"; })[0];
        if (failed && note) note.textContent = failed.error;
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
    // reuse the one it was rendered with (that check-in was made already). Within one load, a second
    // tap sends the same UUID, which the server saves once.
    if (window.crypto && crypto.randomUUID) {
      document.querySelectorAll("form[data-outbox] input[name=uuid]").forEach(function (input) {
        input.value = crypto.randomUUID();
      });
    }
    refresh(); flush();
  });
  setInterval(function () { if (navigator.onLine) flush(); }, RETRY_MS);
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
  window.fieldappOutbox = { flush: flush, all: all };
})();
