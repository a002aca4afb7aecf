// The outbox on the page: forms marked data-outbox are kept on the phone (IndexedDB, outbox-core.js) until
// the server confirms them. Each carries a UUID, so sending one again never makes a second record, and the
// person who made it (the page's fieldapp-maker meta tag), so it is never saved under anyone else's name.
// Photos are always re-encoded in the browser first (JPEG, long edge 1600 px: what the server keeps) and
// kept as blobs with the form. The outbox page (/outbox) lists every item with try again, edit and discard.
// No inline script (CSP).
(function () {
  "use strict";
  var core = window.fieldappOutboxCore;
  // The form's data-photo-long-edge wins (photos.LONG_EDGE). QUALITY as the server keeps it (photos.QUALITY 80):
  // more is lost in the server's re-encode anyway and costs a phone on 750 kbit/s about a second a photo.
  var RETRY_MS = 30000, LONG_EDGE = 1600, QUALITY = 0.8;
  var live = {};  // uuid -> "sending" while this page sends it
  var lastSummary = null;

  function me() {
    var meta = document.querySelector('meta[name="fieldapp-maker"]');
    if (!meta) return null;
    var parts = meta.content.split(".");
    return { user: parseInt(parts[0], 10), session: parseInt(parts[1], 10), name: meta.dataset.name || "" };
  }

  // A text with a count: the page gives every plural form of the reader's language as JSON, {"one": ..,
  // "few": .., "many": ..} (fieldapp/templating.py plural_forms); Intl.PluralRules picks the form for n.
  function plural(forms, n) {
    var texts;
    try { texts = JSON.parse(forms || "{}"); } catch (e) { return forms || ""; }
    var category = new Intl.PluralRules(document.documentElement.lang || undefined).select(n);
    return texts[category] || texts.other || texts.many || "";
  }

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (_m, key) { return values[key] !== undefined ? values[key] : ""; });
  }

  // The state a person sees for an item: sent, failed, sending, or why a pending one is still waiting.
  function shownState(item, who) {
    if (live[item.uuid]) return "sending";
    if (item.state !== "pending") return item.state;
    if (who && who.signedOut) return "signin";
    if (who && item.maker && who.user !== undefined && item.maker.user !== who.user) return "other";
    return "waiting";
  }

  function showCount(items) {
    var status = document.getElementById("outbox-status");
    if (!status) return;
    var who = core.lastWho();
    var counts = { waiting: 0, signin: 0, failed: 0 }, others = {};
    items.forEach(function (item) {
      var state = shownState(item, who);
      if (state === "waiting" || state === "sending") counts.waiting++;
      else if (state === "signin") counts.signin++;
      else if (state === "failed") counts.failed++;
      else if (state === "other") others[item.maker.name] = (others[item.maker.name] || 0) + 1;
    });
    var parts = [];
    if (counts.waiting) parts.push(fill(plural(status.dataset.waiting, counts.waiting), { count: counts.waiting }));
    if (counts.signin) parts.push(fill(plural(status.dataset.signin, counts.signin), { count: counts.signin }));
    Object.keys(others).forEach(function (name) {
      parts.push(fill(plural(status.dataset.other, others[name]), { count: others[name], name: name }));
    });
    if (counts.failed) parts.push(fill(plural(status.dataset.failed, counts.failed), { count: counts.failed }));
    // The words link to the outbox page, where each item can be seen, resent, edited or discarded.
    (status.querySelector("a") || status).textContent = parts.join(" · ");
    status.hidden = parts.length === 0;
    document.documentElement.dataset.outbox = String(counts.waiting + counts.signin);
  }

  function reasonText(list, item) {
    if (item.status === "no-maker") return list.dataset.reasonNoMaker;
    var mapped = list.dataset["reason" + item.status] || fill(list.dataset.reasonOther, { status: item.status });
    // The server's own short text (plain text in the person's language) says more than the status alone.
    return item.message ? item.message : mapped;
  }

  // Forms without data-outbox-label (check-in, check-out) are named by where they go.
  function labelFor(list, url) {
    var path = new URL(url, location.href).pathname;
    if (/\/checkin$/.test(path)) return list.dataset.labelCheckin || "";
    if (/\/checkout$/.test(path)) return list.dataset.labelCheckout || "";
    return "";
  }

  function fieldValue(item, key) {
    var field = (item.fields || []).filter(function (f) { return f[0] === key && typeof f[1] === "string"; })[0];
    return field ? field[1] : "";
  }

  function button(text, action, cls) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "button " + (cls || ""); b.dataset.action = action; b.textContent = text;
    return b;
  }

  // The IANA time zone the page's times are in (the site's on a site page, else the app's; fieldapp/clock.py).
  function pageZone() {
    var meta = document.querySelector('meta[name="fieldapp-time-zone"]');
    return meta && meta.content ? meta.content : null;
  }

  // When the item was made, "14:05", in the app's language (the page's lang, not the phone's locale) and in the
  // time zone of the page it was made on (its site's), else this page's.
  function timeOf(item) {
    var when = new Date(item.createdAt);
    var options = { hour: "2-digit", minute: "2-digit" };
    var zone = item.timeZone || pageZone();
    var lang = document.documentElement.lang || undefined;
    try {
      return when.toLocaleTimeString(lang, zone ? Object.assign({ timeZone: zone }, options) : options);
    } catch (e) {  // a zone or language this browser does not know: the language alone, then the phone's
      try { return when.toLocaleTimeString(lang, options); } catch (e2) { return when.toLocaleTimeString([], options); }
    }
  }

  // One row: what it is, when, its state; failed ones say why and offer try again / edit / discard.
  function row(list, item, who, withActions) {
    var state = shownState(item, who);
    var li = document.createElement("li");
    li.className = "row outbox-item state-" + state;
    li.dataset.uuid = item.uuid;
    var name = document.createElement("span");
    name.textContent = (item.label || labelFor(list, item.url)) + " " + timeOf(item);

    var badge = document.createElement("span");
    badge.className = "badge outbox-state";
    badge.textContent = fill(list.dataset[state] || state, { name: item.maker ? item.maker.name : "" });
    li.appendChild(name); li.appendChild(badge);
    // What the person wrote: enough to tell items apart, and a failed item's text is never out of sight.
    var text = fieldValue(item, "description");
    if (text) {
      var what = document.createElement("p");
      what.className = "muted outbox-text";
      what.textContent = item.state === "failed" || text.length <= 80 ? text : text.slice(0, 79) + "…";
      li.appendChild(what);
    }
    if (item.state === "failed") {
      var why = document.createElement("p");
      why.className = "error outbox-reason"; why.textContent = reasonText(list, item);
      li.appendChild(why);
    }
    (item.notes || []).forEach(function (note) {
      var p = document.createElement("p");
      p.className = "warning outbox-receipt-note"; p.textContent = note;
      li.appendChild(p);
    });
    // Only the item's own person may act on it: on a shared phone nobody else resends, edits or discards it.
    var othersItem = who && (who.signedOut || (item.maker && item.maker.user !== who.user));
    if (withActions && item.state !== "sent" && !othersItem) {
      var actions = document.createElement("div");
      actions.className = "actions outbox-actions";
      // An item without a maker is never resent as is (it could be another person's): edit or discard it.
      if (item.state === "failed" && item.maker) actions.appendChild(button(list.dataset.retry, "retry", "primary"));
      // Edit replaces the item: only a failed one, which no sender will post meanwhile.
      if (item.state === "failed" && item.editUrl) actions.appendChild(button(list.dataset.edit, "edit"));
      actions.appendChild(button(list.dataset.discard, "discard", "danger"));
      li.appendChild(actions);
    }
    return li;
  }

  function showLists(items) {
    var who = core.lastWho();
    var newest = items.slice().sort(function (a, b) { return a.createdAt < b.createdAt ? 1 : -1; });
    // The report form lists what this phone made with it.
    document.querySelectorAll(".outbox-list").forEach(function (list) {
      var form = list.closest("section").querySelector("form[data-outbox]");
      var path = new URL(form.action).pathname;
      list.textContent = "";
      newest.filter(function (i) { return new URL(i.url, location.href).pathname === path; })
        .forEach(function (item) { list.appendChild(row(list, item, who, false)); });
    });
    // The outbox page lists everything on the phone, with its actions.
    document.querySelectorAll(".outbox-sign-in").forEach(function (link) { link.hidden = !(who && who.signedOut); });
    document.querySelectorAll(".outbox-all").forEach(function (list) {
      list.textContent = "";
      newest.forEach(function (item) { list.appendChild(row(list, item, who, true)); });
      var empty = document.querySelector(".outbox-empty");
      if (empty) empty.hidden = items.some(function (i) { return i.state !== "sent"; });
    });
  }

  function draw() {
    return core.all().then(function (items) { showCount(items); showLists(items); return items; })
      .catch(function () { return []; });  // no IndexedDB: nothing to show
  }

  function refresh() {
    if (document.querySelector(".outbox-all") && !core.lastWho()) {
      // The outbox page shows whose each item is and who may act on it: ask who is signed in (offline:
      // unknown, and each item's own buttons stay).
      return core.whoami().catch(function () { return null; }).then(draw);
    }
    return draw();
  }

  function onChange(uuid, state) {
    if (state === "sending") live[uuid] = "sending"; else delete live[uuid];
    if (state === "sent") {
      document.querySelectorAll(".outbox-note").forEach(function (note) {
        if (note.dataset.uuid === uuid) { note.hidden = true; delete note.dataset.uuid; }
      });
      // This page's own form went through later (the signal came back): show the page as it now is.
      if (ownUuids().indexOf(uuid) !== -1) { window.location.reload(); return; }
    }
    refresh();
  }

  // The UUIDs of this page's own forms that stay on the page once sent (a signature, a check-out).
  function ownUuids() {
    return Array.prototype.map.call(document.querySelectorAll("form[data-outbox]:not([data-outbox-reset])"),
      function (form) { var input = form.querySelector("input[name=uuid]"); return input ? input.value : ""; })
      .filter(Boolean);
  }

  // The service worker sent the outbox (Background Sync, when the signal came back): if it sent this page's own
  // form, show the page as it now is, as onChange does when the page sent it. Which of the two sends is a race.
  function reloadIfOwnSent() {
    return Promise.all(ownUuids().map(function (uuid) { return core.get(uuid); })).then(function (items) {
      if (items.some(function (item) { return item && item.state === "sent"; })) window.location.reload();
    });
  }

  // A form cleared for the next one (a report): its box says what was sent, who is told and where it is. A line
  // with data-sent-if="<selector>" is shown only if the form matched the selector when it was sent (`matched`:
  // read before the form was cleared).
  function sentLines(form) {
    var box = form.parentNode.querySelector(".sent-confirmation");
    return box ? Array.prototype.map.call(box.querySelectorAll("[data-sent-if]"), function (line) {
      return [line, form.matches(line.getAttribute("data-sent-if"))];
    }) : [];
  }

  function showSent(form, matched) {
    var box = form.parentNode.querySelector(".sent-confirmation");
    if (!box) return;
    (matched || []).forEach(function (pair) { pair[0].hidden = !pair[1]; });
    box.hidden = false;
    box.scrollIntoView({ block: "start" });
    box.focus();
  }

  function flush() {
    return core.flush(onChange).then(function (summary) { lastSummary = summary; return summary; })
      .finally(refresh);
  }

  // Always a new JPEG at most 1600 px on the long edge (what the server keeps): no metadata, fewer bytes.
  // A file the browser cannot decode is sent as it is, and the server says that this photo was left out.
  function shrink(file, longEdge) {
    if (!window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, longEdge / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var ctx = canvas.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function collect(form) {
    var entries = [];
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") return;  // outbox posts are checked without it (fieldapp/outbox.py)
      if (value instanceof File && !value.size) return;  // an empty file input
      entries.push([key, value]);
    });
    return Promise.all(entries.map(function (entry) {
      var value = entry[1];
      if (!(value instanceof File)) return Promise.resolve(entry);
      return shrink(value, parseInt(form.dataset.photoLongEdge, 10) || LONG_EDGE).then(function (blob) {
        var base = (value.name || "photo").replace(/\.[^.]*$/, "");
        return [entry[0], blob, blob === value ? value.name || "photo" : base + ".jpg"];
      });
    }));
  }

  function queue(form, maker) {
    return collect(form).then(function (fields) {
      var madeAt = new Date().toISOString();  // when it happened, not when it reached the server
      fields = fields.filter(function (f) { return f[0] !== "made_at"; });
      fields.push(["made_at", madeAt]);
      var uuid = (fields.filter(function (f) { return f[0] === "uuid"; })[0] || [])[1];
      var item = { uuid: uuid, url: form.action, fields: fields, createdAt: madeAt, state: "pending",
                   label: form.dataset.outboxLabel || "", maker: maker,
                   timeZone: pageZone(),
                   // Sent, it answers the same person's earlier refused items to this address (outbox-core.js).
                   supersedes: form.hasAttribute("data-outbox-supersedes"),
                   editUrl: form.hasAttribute("data-outbox-edit") ? location.pathname : null };
      var replaces = form.dataset.outboxReplaces;
      delete form.dataset.outboxReplaces;
      return core.replace(item, replaces).then(function () { return item; });
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
    var maker = me();
    // A page without a signed-in person, or a phone without IndexedDB: the ordinary form post.
    if (!form.hasAttribute("data-outbox") || !window.indexedDB || !core || !maker) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    var note = form.parentNode.querySelector(".outbox-note");
    if (note) {  // a new submit: the note says nothing until this item's fate is known
      note.dataset.saved = note.dataset.saved || note.textContent;
      note.hidden = true; note.classList.remove("error"); note.removeAttribute("role");
    }
    var cleared0 = form.hasAttribute("data-outbox-reset");
    var sentBox = form.parentNode.querySelector(".sent-confirmation");
    if (sentBox) sentBox.hidden = true;
    var matched = sentLines(form);  // before the form is cleared for the next one
    queue(form, maker).then(function (item) {
      if (form.hasAttribute("data-outbox-reset")) {
        // Ready for the next report at once: a new UUID, empty fields, no previews.
        form.reset(); newUuid(form);
        form.dispatchEvent(new CustomEvent("outbox:queued", { bubbles: true }));
        if (button) button.disabled = false;
      }
      return flush().then(function () { return core.get(item.uuid); }).then(function (mine) {
        if (mine && mine.state === "sent" && cleared0) showSent(form, matched);  // a clear "sent" (issue 16)
        if (!mine || mine.state === "sent") return;  // onChange has reloaded the page where that is wanted
        if (mine.state === "failed") {
          // Refused while the person is looking at the form (e.g. equipment not ticked): say why right here,
          // never "saved". A form that still shows what was sent (check-in, acknowledgement) is fixed and
          // sent again, which replaces the failed item (with a new UUID); a report form was already cleared
          // for the next report, so its item waits on the outbox page for try again, edit or discard.
          // Either way the failed item is never removed without the person's say.
          var cleared = form.hasAttribute("data-outbox-reset");
          if (!cleared) { form.dataset.outboxReplaces = mine.uuid; newUuid(form); }
          if (button) button.disabled = false;
          if (note) {
            var why = mine.message || "";
            note.textContent = cleared ? [note.dataset.failed, why].filter(Boolean).join(" ") : why || note.dataset.failed || "";
            note.classList.add("error"); note.setAttribute("role", "alert"); note.hidden = !note.textContent;
            // Where the person looks: not under the sticky button and the bottom bar at the page's foot.
            if (!note.hidden) note.scrollIntoView({ block: "center" });
          }
          return;
        }
        // Not sent now: let the browser send it when the signal returns, even with the app closed.
        if (mine.state === "pending") askForBackgroundSync();
        if (note) { note.textContent = note.dataset.saved; note.dataset.uuid = mine.uuid; note.hidden = false; }
      });
    }).catch(function () {
      form.removeAttribute("data-outbox");  // IndexedDB refused: send it the ordinary way
      form.submit();
    });
  });

  // --- the outbox page's buttons ---------------------------------------------------------------------------

  function confirmDiscard(li, list) {
    var actions = li.querySelector(".outbox-actions");
    actions.textContent = "";
    var ask = document.createElement("p");
    ask.className = "warning"; ask.textContent = list.dataset.discardAsk;
    actions.appendChild(ask);
    actions.appendChild(button(list.dataset.discardYes, "discard-yes", "danger"));
    actions.appendChild(button(list.dataset.discardNo, "discard-no"));
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button[data-action]");
    if (!target || !core) return;
    var li = target.closest(".outbox-item"), list = target.closest(".outbox-all");
    if (!li || !list) return;
    var uuid = li.dataset.uuid, action = target.dataset.action;
    if (action === "retry") {
      core.update(uuid, function (item) {
        if (item.state !== "failed" || !item.maker) return false;
        item.state = "pending"; delete item.status; delete item.message;
      }).then(flush);
    } else if (action === "edit") {
      core.get(uuid).then(function (item) {
        if (item && item.editUrl) location.href = item.editUrl + "?outbox=" + encodeURIComponent(uuid);
      });
    } else if (action === "discard") {
      confirmDiscard(li, list);
    } else if (action === "discard-yes") {
      core.remove(uuid).then(refresh);  // only ever on the person's own confirmed tap
    } else if (action === "discard-no") {
      refresh();
    }
  });

  // --- edit: the form opens again with the item's fields and photos; sending it replaces the item -----------

  function prefill(form, item) {
    var files = new DataTransfer();
    form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (input) { input.checked = false; });
    item.fields.forEach(function (field) {
      var key = field[0], value = field[1];
      if (key === "uuid" || key === "made_at" || key === "csrf_token") return;
      if (value instanceof Blob) {
        files.items.add(new File([value], field[2] || "photo.jpg", { type: value.type || "image/jpeg" }));
        return;
      }
      form.querySelectorAll('[name="' + CSS.escape(key) + '"]').forEach(function (input) {
        if (input.type === "checkbox" || input.type === "radio") {
          if (input.value === value) input.checked = true;
        } else if (input.type !== "file") {
          // What the server refused for a control character is fillable again without it (app.js).
          input.value = window.fieldappSavableText ? window.fieldappSavableText(value, input.tagName === "TEXTAREA")
                                                   : value;
        }
      });
    });
    var gallery = form.querySelector("input[type=file][multiple]");
    if (gallery && files.files.length) {
      gallery.files = files.files;
      gallery.dispatchEvent(new Event("change", { bubbles: true }));
    }
    var more = form.querySelector("details.more");
    if (more) more.open = true;
    // A new UUID: the server never saved the old one, and a 409 conflict needs a new one anyway.
    form.dataset.outboxReplaces = item.uuid;
    form.dataset.outboxEditing = item.uuid;
  }

  function openForEditing() {
    var uuid = new URLSearchParams(location.search).get("outbox");
    if (!uuid) return;
    var form = document.querySelector("form[data-outbox][data-outbox-edit]");
    if (!form) return;
    core.get(uuid).then(function (item) { if (item && item.state === "failed") prefill(form, item); });
  }

  // --- signing out on a shared phone --------------------------------------------------------------------

  // Warns when the person's items still wait ("N not sent yet will wait on this phone"), then forgets their
  // kept pages and sent receipts. Waiting items (theirs and other people's) stay: they are sent when their
  // maker signs in again here.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form.sign-out") || !core) return;
    event.preventDefault();
    var person = me();
    core.all().then(function (items) {
      var mine = items.filter(function (i) { return person && i.maker && i.maker.user === person.user; });
      var waiting = mine.filter(function (i) { return i.state !== "sent"; }).length;
      var warning = form.querySelector(".sign-out-warning");
      if (waiting && !warning) {
        var status = document.getElementById("outbox-status");
        warning = document.createElement("p");
        warning.className = "warning sign-out-warning"; warning.setAttribute("role", "alert");
        warning.textContent = fill(plural(status.dataset.signout, waiting), { count: waiting });
        form.insertBefore(warning, form.firstChild);
        var submit = form.querySelector("button[type=submit]");
        if (submit && status.dataset.signoutAnyway) submit.textContent = status.dataset.signoutAnyway;
        return;  // the next tap signs out
      }
      var forget = mine.filter(function (i) { return i.state === "sent"; }).map(function (i) { return core.remove(i.uuid); });
      if (window.caches) forget.push(caches.delete("pages-v1"));
      return Promise.all(forget).catch(function () { /* signing out must not depend on it */ })
        .then(function () { form.submit(); });
    }).catch(function () { form.submit(); });
  });

  // Kept pages (sw.js) belong to the person they were rendered for: their forms queue under that maker. Signing out
  // forgets them, but so must any other way a new person comes to the phone (signing in over someone's session,
  // a session revoked elsewhere or expired): a page loaded with signal for another person, or for nobody, drops
  // them. Piotr's report, made offline on Ola's kept page, was saved as Ola's.
  var KEPT_FOR = "fieldapp-pages-for";
  function forgetPagesOfOthers() {
    if (!window.caches || !window.localStorage || !navigator.onLine) return;
    var person = me();
    var now = person ? String(person.user) : "";
    if (localStorage.getItem(KEPT_FOR) === now) return;
    localStorage.setItem(KEPT_FOR, now);
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (worker) {  // the worker drops them and keeps this page again, for the person signed in now
      worker.postMessage({ type: "forget-pages", keep: location.pathname });
    } else {
      caches.delete("pages-v1").catch(function () { localStorage.removeItem(KEPT_FOR); });
    }
  }

  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
  document.addEventListener("DOMContentLoaded", function () {
    // A fresh UUID for every page load: a page opened again from the service worker's cache must not
    // reuse the one it was rendered with (that record was made already). Within one load, a second
    // tap sends the same UUID, which the server saves once.
    document.querySelectorAll("form[data-outbox]").forEach(newUuid);
    forgetPagesOfOthers();
    if (core) { refresh(); flush(); openForEditing(); }
  });
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (!(event.data && event.data.type === "outbox-changed") || !core) return;
      refresh();
      reloadIfOwnSent();
    });
  }
  setInterval(function () { if (navigator.onLine && core) flush(); }, RETRY_MS);
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
  window.fieldappOutbox = { flush: flush, refresh: refresh, all: function () { return core.all(); },
                            summary: function () { return lastSummary; } };
})();
