// Safety walkarounds on the phone (issue 18): the round and each answer are outbox items (outbox-core.js), so
// a whole round can be walked without signal and survives the app being closed: the round's UUID and what was
// answered are kept in localStorage per site, the items themselves in IndexedDB until the server confirms them.
// Each answer has a UUID of its own and names its item; the server keeps one answer per item (the later one).
// No inline script (CSP).
(function () {
  "use strict";
  var core = window.fieldappOutboxCore;
  var ZERO = "00000000-0000-0000-0000-000000000000";

  function me() {
    var meta = document.querySelector('meta[name="fieldapp-maker"]');
    if (!meta) return null;
    var parts = meta.content.split(".");
    return { user: parseInt(parts[0], 10), session: parseInt(parts[1], 10), name: meta.dataset.name || "" };
  }

  function newUuid() { return crypto.randomUUID(); }

  // Per site and person: on a shared phone each person's round in progress is their own. The pointer names the
  // round being walked ({uuid, version}); what was answered is kept under the round's own UUID, so a new round
  // never shows another round's answers, and both are forgotten when the round is finished or discarded.
  function storeKey(site) { var who = me(); return "fieldapp-round-" + site + "-" + (who ? who.user : ""); }
  function roundKey(uuid) { return "fieldapp-round-answers-" + uuid; }

  function read(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function loadState(site) {
    var pointer = read(storeKey(site));
    if (!pointer || !pointer.uuid) return null;
    var kept = read(roundKey(pointer.uuid));
    return { uuid: pointer.uuid, version: pointer.version, answered: (kept && kept.answered) || {} };
  }

  function saveState(site, state) {
    try {
      localStorage.setItem(storeKey(site), JSON.stringify({ uuid: state.uuid, version: state.version }));
      localStorage.setItem(roundKey(state.uuid), JSON.stringify({ answered: state.answered || {} }));
    } catch (e) { /* full: the outbox still has the items */ }
  }

  function forget(site, uuid) {
    if (!uuid) return;
    localStorage.removeItem(roundKey(uuid));
    var pointer = read(storeKey(site));
    if (pointer && pointer.uuid === uuid) localStorage.removeItem(storeKey(site));
  }

  function queue(url, fields, label) {
    var madeAt = new Date().toISOString();
    fields = fields.filter(function (f) { return f[0] !== "made_at" && f[0] !== "csrf_token"; });
    fields.push(["made_at", madeAt]);
    var uuid = fields.filter(function (f) { return f[0] === "uuid"; })[0][1];
    var item = { uuid: uuid, url: new URL(url, location.href).href, fields: fields, createdAt: madeAt,
                 state: "pending", label: label || "", maker: me(), editUrl: null };
    return core.put(item).then(function () { return item; });
  }

  function flush() {
    if (window.fieldappOutbox) return window.fieldappOutbox.flush();
    return core.flush(null);
  }

  function askForBackgroundSync() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (r) { if (r.sync) return r.sync.register("outbox"); })
      .catch(function () { /* the page's own retries remain */ });
  }

  function showProgress(root) {
    var line = document.querySelector(".round-progress[data-progress]");
    if (!line) return;
    var items = root.querySelectorAll(".round-item");
    var done = root.querySelectorAll(".round-item.answered").length;
    line.textContent = line.dataset.progress.replace("{done}", done).replace("{total}", items.length);
  }

  function markAnswered(li, answer) {
    li.classList.add("answered");
    ["ok", "deviation", "na"].forEach(function (a) { li.classList.toggle("answer-" + a, a === answer); });
  }

  function say(form, text, isError) {
    var state = form.querySelector(".answer-state");
    if (!state) return;
    state.textContent = text;
    state.classList.toggle("error", !!isError);
    state.hidden = !text;
  }

  function collect(form) {
    var fields = [];
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") return;
      if (value instanceof File) {
        if (value.size) fields.push([key, value, value.name || "photo.jpg"]);
        return;
      }
      fields.push([key, value]);
    });
    return fields;
  }

  // --- answering an item (the start page and a round's page) ------------------------------------------------

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-round-answer") || !core || !window.indexedDB || !me()) return;
    if (!form.getAttribute("action")) { event.preventDefault(); return; }  // the round is not started yet
    event.preventDefault();
    var fields = collect(form).map(function (f) { return f[0] === "uuid" ? ["uuid", newUuid()] : f; });
    var answer = (fields.filter(function (f) { return f[0] === "answer"; })[0] || [])[1];
    var note = (fields.filter(function (f) { return f[0] === "note"; })[0] || [])[1] || "";
    if (answer === "deviation" && !note.trim()) {
      form.querySelector("textarea[name=note]").focus();
      say(form, form.closest("[data-note-required]") ? form.closest("[data-note-required]").dataset.noteRequired : "", true);
      return;
    }
    var li = form.closest(".round-item"), root = form.closest("[data-round-checklist]");
    var label = (document.querySelector("[data-answer-label]") || root).dataset.answerLabel || "";
    queue(form.action, fields, label).then(function (item) {
      markAnswered(li, answer);
      showProgress(root);
      var start = document.querySelector("form[data-round-start]");
      if (start) {
        var state = loadState(start.dataset.site);
        if (state) { state.answered[li.dataset.item] = answer; saveState(start.dataset.site, state); }
      }
      var photos = form.querySelector("input[type=file]");
      if (photos) photos.value = "";
      var stateLine = form.querySelector(".answer-state");
      say(form, stateLine ? stateLine.dataset.saved : "", false);
      return flush().then(function () { return core.get(item.uuid); }).then(function (mine) {
        if (!mine) return;
        if (mine.state === "sent") say(form, stateLine ? stateLine.dataset.sent : "", false);
        else if (mine.state === "failed") say(form, mine.message || "", true);
        else askForBackgroundSync();
      });
    });
  });

  // --- the start page: make the round on the phone, then answer from the same page ----------------------------

  function useRound(start, state) {
    var root = document.querySelector("[data-round-checklist]");
    var answerUrl = start.dataset.answerUrl.replace(ZERO, state.uuid);
    root.querySelectorAll("form[data-round-answer]").forEach(function (form) { form.action = answerUrl; });
    root.querySelectorAll(".round-item").forEach(function (li) {
      var answer = state.answered[li.dataset.item];
      if (answer) markAnswered(li, answer);
    });
    var end = root.querySelector("[data-round-end]");
    if (end) end.href = start.dataset.roundUrl.replace(ZERO, state.uuid);
    var finish = root.querySelector("form[data-round-finish]");
    if (finish) finish.action = finish.dataset.finishUrl.replace(ZERO, state.uuid);
    start.hidden = true;
    root.hidden = false;
    showProgress(root);
  }

  function setUpStart(start) {
    var state = loadState(start.dataset.site);
    if (state && (start.dataset.finished || "").split(" ").indexOf(state.uuid) >= 0) {
      forget(start.dataset.site, state.uuid);  // finished meanwhile (another phone, the round's page)
      state = null;
    }
    if (state && state.version === start.dataset.version && state.uuid) useRound(start, state);
    start.addEventListener("submit", function (event) {
      if (!core || !window.indexedDB || !me()) return;  // the plain post, and the round's own page
      event.preventDefault();
      var fresh = { uuid: newUuid(), version: start.dataset.version, answered: {} };
      var fields = collect(start).map(function (f) { return f[0] === "uuid" ? ["uuid", fresh.uuid] : f; });
      queue(start.action, fields, start.dataset.label).then(function () {
        saveState(start.dataset.site, fresh);
        useRound(start, fresh);
        return flush();
      }).then(function () { askForBackgroundSync(); });
    });
  }

  // The end of the round from the start page: participants and summary, queued after the answers (the outbox
  // sends oldest first), so the server has every answer when it checks that none is missing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-round-finish") || !core || !window.indexedDB || !me()) return;
    event.preventDefault();
    if (!form.getAttribute("action")) return;
    var fields = collect(form).map(function (f) { return f[0] === "uuid" ? ["uuid", newUuid()] : f; });
    var line = form.querySelector(".answer-state");
    var start = document.querySelector("form[data-round-start]");
    queue(form.action, fields, form.dataset.label).then(function (item) {
      // The finish is queued after every answer: the phone stops walking this round, so the next
      // "New walkaround" starts clean (issue 18).
      if (start) { var state = loadState(start.dataset.site); if (state) forget(start.dataset.site, state.uuid); }
      say(form, line.dataset.saved, false);
      return flush().then(function () { return core.get(item.uuid); }).then(function (mine) {
        if (!mine) return;
        if (mine.state === "sent") say(form, line.dataset.sent, false);
        else if (mine.state === "failed") say(form, mine.message || "", true);
        else askForBackgroundSync();
      });
    });
  });

  // A finished round's page: the phone forgets it was walking this round (the answers have all arrived).
  function forgetFinished(page) { forget(page.dataset.site, page.dataset.round); }

  // Discarding a round: the phone forgets it too (the form posts as usual).
  document.addEventListener("submit", function (event) {
    var form = event.target, page = document.querySelector("[data-round-checklist][data-round]");
    if (form.hasAttribute("data-round-discard") && page) forget(page.dataset.site, page.dataset.round);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var start = document.querySelector("form[data-round-start]");
    if (start) setUpStart(start);
    var finished = document.querySelector("[data-round-checklist][data-finished]");
    if (finished) forgetFinished(finished);
    document.querySelectorAll("input[data-fresh-uuid]").forEach(function (input) {
      if (window.crypto && crypto.randomUUID) input.value = newUuid();
    });
  });
})();
