// The outbox's storage and sending, shared by the pages (outbox.js) and the service worker (Background Sync).
// No DOM here. An item is {uuid, url, fields: [[name, value]] or [[name, Blob, filename]], label, csrf,
// createdAt, state: "pending" | "failed" | "sent"}. Items leave the outbox only after a 2xx answer for their
// UUID; then a small receipt without the photos stays for a day so that the page can show "sent".
(function (scope) {
  "use strict";
  var DB = "fieldapp", STORE = "outbox", RECEIPT_MS = 24 * 3600 * 1000;
  var flushing = null;

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

  // One transaction per call: an item and its photos are stored together or not at all.
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

  function body(item) {
    var hasFile = item.fields.some(function (f) { return f[1] instanceof Blob; });
    if (!hasFile) return new URLSearchParams(item.fields.map(function (f) { return [f[0], f[1]]; }));
    var data = new FormData();
    item.fields.forEach(function (f) {
      if (f[1] instanceof Blob) data.append(f[0], f[1], f[2] || "photo.jpg");
      else data.append(f[0], f[1]);
    });
    return data;
  }

  // -> "sent" | "failed" | "retry"
  function send(item, csrfToken) {
    return fetch(item.url, {
      method: "POST", body: body(item), credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRFToken": csrfToken || item.csrf || "", "X-Outbox": "1" },
    }).then(function (response) {
      if (response.ok) {
        var receipt = { uuid: item.uuid, url: item.url, label: item.label, createdAt: item.createdAt,
                        sentAt: new Date().toISOString(), state: "sent", fields: [] };
        return put(receipt).then(function () { return "sent"; });
      }
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        return response.text().then(function (message) {
          item.state = "failed"; item.error = message.slice(0, 300); item.status = response.status;
          return put(item).then(function () { return "failed"; });
        });
      }
      return "retry";  // 5xx, 408, 429: later
    }, function () { return "retry"; });  // no signal
  }

  function pruneReceipts(items) {
    var old = Date.now() - RECEIPT_MS;
    var stale = items.filter(function (i) { return i.state === "sent" && Date.parse(i.sentAt) < old; });
    if (!stale.length) return Promise.resolve();
    return withStore("readwrite", function (store) { stale.forEach(function (i) { store.delete(i.uuid); }); });
  }

  // Sends what is pending, oldest first, one at a time. onChange(uuid, state) reports progress.
  function flush(csrfToken, onChange) {
    if (flushing) return flushing;
    flushing = all().then(function (items) {
      var pending = items.filter(function (i) { return i.state === "pending"; })
        .sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : 1; });
      var results = [];
      return pending.reduce(function (chain, item) {
        return chain.then(function () {
          if (onChange) onChange(item.uuid, "sending");
          return send(item, csrfToken).then(function (r) {
            results.push(r);
            if (onChange) onChange(item.uuid, r);
          });
        });
      }, Promise.resolve()).then(function () { return pruneReceipts(items); }).then(function () { return results; });
    }).finally(function () { flushing = null; });
    return flushing;
  }

  scope.fieldappOutboxCore = { all: all, put: put, send: send, flush: flush };
})(self);
