// The outbox's storage and sending, shared by the pages (outbox.js) and the service worker (Background Sync).
// No DOM here. An item is {uuid, url, fields: [[name, value]] or [[name, Blob, filename]], label, createdAt,
// maker: {user, session, name}, editUrl, supersedes, state: "pending" | "failed" | "sent", status, message, notes}.
//
// Rules (issue 13):
// - An item is sent only while its maker is the person signed in on this phone (asked from /whoami, never
//   cached), and every post says who made it (X-Outbox-Maker); the server refuses another person's item
//   with 409 + X-Outbox: wrong-person and it keeps waiting. Items of a person who is not signed in wait.
// - No CSRF token is stored with an item (it would go stale at the next sign-in): the server checks outbox
//   posts by session cookie, custom header and origin instead (fieldapp/outbox.py).
// - 401 (or a redirect) means "sign in to send", never "failed" and never lost.
// - Only a refusal the person must act on (other 4xx) makes an item "failed"; it stays until they resend,
//   edit or discard it. Items leave the outbox only after a 2xx for their UUID; then a small receipt
//   without the photos stays for a day so that the page can show "sent" (and notes such as a photo left out).
// - One sender at a time across pages and the service worker: the Web Lock "fieldapp-outbox" (released by
//   the browser when its holder dies); where there is no Web Locks API, each item is leased in its own
//   IndexedDB transaction before it is sent, so two senders never post the same item at once either way.
(function (scope) {
  "use strict";
  var DB = "fieldapp", STORE = "outbox", RECEIPT_MS = 24 * 3600 * 1000, CLAIM_MS = 60000, LOCK = "fieldapp-outbox";
  var flushing = null, again = null, lastWho = null;

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

  function request(req) {
    return new Promise(function (resolve) { req.onsuccess = function () { resolve(req.result); }; });
  }

  function all() { return withStore("readonly", function (store) { return request(store.getAll()); }).then(function (r) { return r || []; }); }
  function get(uuid) { return withStore("readonly", function (store) { return request(store.get(uuid)); }); }
  function put(item) { return withStore("readwrite", function (store) { store.put(item); }); }
  function remove(uuid) { return withStore("readwrite", function (store) { store.delete(uuid); }); }

  // Stores `item` and removes `oldUuid` in one transaction (an edited item replaces the one it came from).
  function replace(item, oldUuid) {
    return withStore("readwrite", function (store) {
      store.put(item);
      if (oldUuid && oldUuid !== item.uuid) store.delete(oldUuid);
    });
  }

  // Changes one stored item in its own transaction; change(item) returns false to leave it as it is.
  function update(uuid, change) {
    return withStore("readwrite", function (store) {
      return request(store.get(uuid)).then(function (item) {
        if (!item || change(item) === false) return null;
        store.put(item);
        return item;
      });
    });
  }

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

  // Who is signed in on this phone now: {user, session, name}, {signedOut: true}, or a rejection (no signal).
  function whoami() {
    return fetch("/whoami", { credentials: "same-origin", cache: "no-store", redirect: "manual" }).then(function (r) {
      if (r.status === 401 || r.type === "opaqueredirect") return { signedOut: true };
      if (!r.ok) throw new Error("whoami: " + r.status);
      return r.json();
    }).then(function (who) { lastWho = who; return who; });
  }

  // Takes an item for this sender if it is still pending (read afresh: another sender may have sent it).
  // Without Web Locks it is also leased for CLAIM_MS so that no other sender posts it meanwhile; with them
  // the lock alone decides (a lease would outlive a page closed mid-send and hold the item back).
  function claim(uuid, locked) {
    var now = Date.now();
    return update(uuid, function (item) {
      if (item.state !== "pending") return false;
      if (locked) return;
      if ((item.claimedUntil || 0) > now) return false;
      item.claimedUntil = now + CLAIM_MS;
    });
  }

  // A short text the server meant for the person (plain text or our JSON), never an HTML page.
  function readAnswer(response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") === 0) {
      return response.json().then(function (j) { return { message: j.message || "", notes: j.notes || [] }; },
        function () { return { message: "", notes: [] }; });
    }
    if (type.indexOf("text/plain") === 0) {
      return response.text().then(function (t) { return { message: t.slice(0, 300), notes: [] }; });
    }
    return Promise.resolve({ message: "", notes: [] });
  }

  // Records the outcome of one post. -> "sent" | "failed" | "retry" | "signed-out" | "wrong-person"
  // An item marked `supersedes` (a check-in or check-out: the form says all there is to say) answers the same
  // person's earlier refused items to the same address once it is sent: they go with its receipt, in one step.
  function settle(item, outcome, answer, status) {
    if (outcome === "sent") {
      var receipt = { uuid: item.uuid, url: item.url, label: item.label, createdAt: item.createdAt, maker: item.maker,
                      sentAt: new Date().toISOString(), state: "sent", fields: [], notes: answer.notes };
      return withStore("readwrite", function (store) {
        store.put(receipt);
        if (!item.supersedes || !item.maker) return null;
        return request(store.getAll()).then(function (items) {
          (items || []).forEach(function (other) {
            if (other.state === "failed" && other.url === item.url && other.maker &&
                other.maker.user === item.maker.user) store.delete(other.uuid);
          });
        });
      }).then(function () { return outcome; });
    }
    return update(item.uuid, function (stored) {
      delete stored.claimedUntil;
      if (outcome === "failed") { stored.state = "failed"; stored.status = status; stored.message = answer.message; }
    }).then(function () { return outcome; });
  }

  function send(item) {
    var maker = item.maker ? item.maker.user + "." + item.maker.session : "";
    return fetch(item.url, {
      method: "POST", body: body(item), credentials: "same-origin", redirect: "manual",
      headers: { "X-Outbox": "1", "X-Outbox-Maker": maker },
    }).then(function (response) {
      var kind = response.headers.get("X-Outbox");
      if (response.ok) return readAnswer(response).then(function (a) { return settle(item, "sent", a); });
      if (response.status === 401 || response.type === "opaqueredirect") return settle(item, "signed-out");
      if (response.status === 409 && kind === "wrong-person") return settle(item, "wrong-person");
      var s = response.status;
      if (s >= 400 && s < 500 && s !== 408 && s !== 429) {
        return readAnswer(response).then(function (a) { return settle(item, "failed", a, kind === "no-maker" ? "no-maker" : s); });
      }
      return settle(item, "retry");  // 5xx, 408, 429: later
    }, function () { return settle(item, "retry"); });  // no signal
  }

  function pruneReceipts(items) {
    var old = Date.now() - RECEIPT_MS;
    var stale = items.filter(function (i) { return i.state === "sent" && Date.parse(i.sentAt) < old; });
    if (!stale.length) return Promise.resolve();
    return withStore("readwrite", function (store) { stale.forEach(function (i) { store.delete(i.uuid); }); });
  }

  function exclusive(work) {
    var locks = scope.navigator && scope.navigator.locks;
    if (locks && locks.request) return locks.request(LOCK, function () { return work(true); });
    return work(false);  // no Web Locks: claim() leases each item to one sender
  }

  function flushNow(onChange, locked) {
    var summary = { sent: 0, failed: 0, retry: 0, "signed-out": 0, "wrong-person": 0, "other-person": 0 };
    return all().then(function (items) {
      var pending = items.filter(function (i) { return i.state === "pending"; })
        .sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : 1; });
      if (!pending.length) return pruneReceipts(items);
      return whoami().then(function (who) {
        return pending.reduce(function (chain, item) {
          return chain.then(function () {
            if (!item.maker) {  // queued before the phone recorded makers: the person must look at it
              return settle(item, "failed", { message: "" }, "no-maker").then(function () { summary.failed++; });
            }
            if (who.signedOut) { summary["signed-out"]++; return; }
            if (item.maker.user !== who.user) { summary["other-person"]++; return; }
            return claim(item.uuid, locked).then(function (fresh) {
              if (!fresh) return;  // sent or being sent by another sender meanwhile
              if (onChange) onChange(item.uuid, "sending");
              return send(fresh).then(function (r) {
                summary[r]++;
                if (onChange) onChange(item.uuid, r);
              });
            });
          });
        }, Promise.resolve());
      }, function () { summary.retry = pending.length; })  // no signal
        .then(function () { return pruneReceipts(items); });
    }).then(function () { return summary; });
  }

  // Sends what is pending and may be sent now, oldest first, one at a time. onChange(uuid, state) reports
  // progress. -> {sent, failed, retry, "signed-out", "wrong-person", "other-person"}: counts of items.
  function flush(onChange) {
    if (flushing) {
      // One more round after the running one: it read the items before the newest was queued.
      if (!again) again = flushing.then(function () { again = null; return flush(onChange); });
      return again;
    }
    flushing = exclusive(function (locked) { return flushNow(onChange, locked); }).finally(function () { flushing = null; });
    return flushing;
  }

  scope.fieldappOutboxCore = { all: all, get: get, put: put, remove: remove, replace: replace, update: update,
                               send: send, flush: flush, whoami: whoami, lastWho: function () { return lastWho; } };
})(self);
