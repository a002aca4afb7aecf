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

  // A poll (the on-site list, an alert's status) whose answer has the ETag of what the page shows already: no
  // swap. The server answers 304 and the browser hands htmx its kept copy as a 200, which htmx would put in
  // place again, taking the focus, a half-typed field or a tap in progress with it (htmx.render_polled).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr, target = event.detail.target;
    if (xhr.status === 304) {
      event.detail.shouldSwap = false;
      return;
    }
    // Flask-Compress marks a compressed answer's ETag with its encoding ("<tag>:br").
    var tag = (xhr.getResponseHeader("ETag") || "").replace(/^W\//, "").replace(/"/g, "").split(":")[0];
    if (tag && target && target.getAttribute("data-etag") === tag) event.detail.shouldSwap = false;
  });

  // Text pasted from Word holds a vertical tab for a manual line break, a form feed for a page break, and NEL
  // comes from converted text. In a text box each becomes the line break the person meant; in a one-line field a
  // space, as the browser does there with a real line break. The server reads them as "\n" where no script ran
  // (inputs.PASTED_LINE_BREAKS); a one-line field holding "\n" lost it at the next edit ("oppMed kran"). Other
  // control characters (NUL, ESC, C1) cannot be saved and cannot be seen: they are dropped as they come, where
  // the server would refuse the whole form (shell/errors.py) and the person could not find what to retype.
  var PASTED = /[\u000b\u000c\u0085]/g;
  var CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f]/g;
  var UNSAVABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
  function savableText(text, multiLine) {
    return text.replace(PASTED, multiLine ? "\n" : " ").replace(CONTROL, "");
  }
  window.fieldappSavableText = savableText;  // the outbox's Edit fills a form with what it kept (outbox.js)
  function cleanable(field) {
    return field && (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type !== "file"));
  }
  // A paste is cleaned before it lands, through the browser's own text insertion: the paste can be undone, and a
  // field's maxlength counts what is kept, not the characters dropped.
  var TYPED = { text: true, search: true, tel: true, url: true, password: true };
  document.addEventListener("paste", function (event) {
    var field = event.target, text = event.clipboardData && event.clipboardData.getData("text/plain");
    var typed = field && (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && TYPED[field.type]));
    if (!typed || !text || !UNSAVABLE.test(text)) return;  // other fields: cleaned by the input listener below
    var clean = savableText(text, field.tagName === "TEXTAREA");
    event.preventDefault();
    if (!document.execCommand("insertText", false, clean)) field.setRangeText(clean, field.selectionStart,
                                                                             field.selectionEnd, "end");
  }, true);
  // Anything else that brings them (a drop, autofill, a script): cleaned once it is in, keeping the caret. Not in
  // the middle of a keyboard's composition (Japanese, Chinese): that ends in compositionend, cleaned then.
  function cleanField(field) {
    if (!cleanable(field) || !UNSAVABLE.test(field.value)) return;
    var multiLine = field.tagName === "TEXTAREA", at = field.selectionStart;
    var before = typeof at === "number" ? savableText(field.value.slice(0, at), multiLine).length : null;
    field.value = savableText(field.value, multiLine);
    try { if (before !== null) field.setSelectionRange(before, before); } catch (e) { /* no text selection */ }
  }
  document.addEventListener("input", function (event) {
    if (!event.isComposing) cleanField(event.target);
  }, true);
  document.addEventListener("compositionend", function (event) { cleanField(event.target); }, true);

  if (!("serviceWorker" in navigator)) return;
  // After the page's own files (issue 22): the worker's install then takes them from the HTTP cache (their names
  // are hashed and immutable) instead of downloading them a second time on a first visit.
  var installingNow = false;
  function register() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
      installingNow = Boolean(registration.installing);
      return navigator.serviceWorker.ready;
    });
  }
  var registered = document.readyState === "complete" ? register() : new Promise(function (resolve) {
    window.addEventListener("load", function () { resolve(register()); }, { once: true });
  });
  registered.then(function (registration) {
    // The cached offline page speaks the language of the page the person last saw. A worker installed just now
    // fetched it in this page's language already.
    var lang = document.documentElement.lang;
    if (installingNow && !localStorage.getItem("fieldapp.offlineLang")) {
      localStorage.setItem("fieldapp.offlineLang", lang);
    } else if (registration.active && localStorage.getItem("fieldapp.offlineLang") !== lang) {
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

// Signing out (warning about waiting items, forgetting kept pages) is in outbox.js.

// The report form: photos taken one by one are gathered into the multiple-photo input, with previews;
// the severity follows what was picked until the person chooses one.
(function () {
  "use strict";
  var severityTouched = false;

  function gallery(form) { return form.querySelector('.photo-pick input[type=file][multiple]'); }

  function showPreviews(form) {
    var box = form.querySelector(".previews"), input = gallery(form);
    if (!box || !input) return;
    box.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    box.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var img = document.createElement("img");
      img.className = "preview"; img.alt = ""; img.src = URL.createObjectURL(file);
      box.appendChild(img);
    });
  }

  function suggestSeverity(form) {
    if (severityTouched) return;
    var kind = form.querySelector("input[name=kind]:checked"), category = form.querySelector("input[name=category]:checked");
    var grave = (form.querySelector(".categories").dataset.grave || "").split(" ");
    var high = (kind && kind.value === "injury") ||
      (kind && (kind.value === "hazard" || kind.value === "near_miss") && category && grave.indexOf(category.value) !== -1);
    var pick = form.querySelector('input[name=severity][value="' + (high ? "high" : "medium") + '"]');
    if (pick && category) pick.checked = true;
  }

  document.addEventListener("change", function (event) {
    var input = event.target, form = input.form;
    if (!form || !form.classList.contains("report-form")) return;
    if (input.type === "file" && input.closest(".photo-pick")) {
      var target = gallery(form);
      if (input !== target && window.DataTransfer) {
        var all = new DataTransfer();
        Array.prototype.forEach.call(target.files, function (f) { all.items.add(f); });
        Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
        target.files = all.files;
        input.value = "";
      }
      showPreviews(form);
    } else if (input.name === "severity") {
      severityTouched = true;
    } else if (input.name === "kind" || input.name === "category") {
      suggestSeverity(form);
    }
  });

  document.addEventListener("outbox:queued", function (event) {
    severityTouched = false;
    if (event.target.classList.contains("report-form")) showPreviews(event.target);
  });

  // What the server refuses in a report (reports.service: "no_category", "empty"), said here beside its field
  // before the outbox queues it: queued first, the report was refused only when it reached the server, as a
  // failed item on the outbox page, and reached nobody until someone mended it. Capture phase, so that
  // outbox.js's submit handler never sees a report that cannot be sent.
  function reportProblem(form) {
    if (!form.querySelector("input[name=category]:checked")) {
      return { message: form.querySelector(".no-category"), field: form.querySelector("input[name=category]") };
    }
    var hasPhoto = Array.prototype.some.call(form.querySelectorAll("input[type=file]"), function (input) {
      return input.files && input.files.length > 0;
    });
    var text = form.querySelector("textarea[name=description]");
    // Invisible characters alone (a zero-width space pasted from a chat) are no words: the server agrees.
    var words = text ? text.value.replace(/[\s\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, "") : "";
    if (!hasPhoto && !words) {
      var more = form.querySelector("details.more");
      if (more) more.open = true;
      return { message: form.querySelector(".report-empty"), field: text };
    }
    return null;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("report-form")) return;
    form.querySelectorAll(".report-check").forEach(function (p) { p.hidden = true; });
    var problem = reportProblem(form);
    if (!problem) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (problem.message) {
      problem.message.hidden = false;
      problem.message.scrollIntoView({ block: "center" });
    }
    if (problem.field) problem.field.focus({ preventScroll: true });
  }, true);

  // A message said before sending goes once the person acts on it (a category picked, a photo, some words).
  ["change", "input"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = event.target.form;
      if (!form || !form.classList.contains("report-form")) return;
      form.querySelectorAll(".report-check").forEach(function (p) { p.hidden = true; });
    });
  });
})();

// PIN fields bring up the digit keypad (inputmode="numeric"); this button switches them to the full keyboard
// for a password, and back (issue 16).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".secret-keyboard").forEach(function (button) {
    var form = button.form || button.closest("form");
    var fields = form ? form.querySelectorAll("input[type=password]") : [];
    button.hidden = false;
    button.addEventListener("click", function () {
      var toText = fields.length && fields[0].inputMode === "numeric";
      fields.forEach(function (input) { input.inputMode = toText ? "text" : "numeric"; });
      button.textContent = toText ? button.dataset.numeric : button.dataset.text;
      if (fields.length) fields[0].focus();
    });
  });
});

// A form sent back with errors (a 4xx page): the first field in error gets the focus and comes into view, so a
// person on a phone sees why nothing was saved even when it is below the fold (autofocus kept the first field).
// The field is the first marked aria-invalid, else the one whose message (_macros.html input_error: a
// p.error with the id "<field id>-error") comes first; a message without its field is brought into view itself.
document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector("main [aria-invalid=true]");
  if (!invalid) {
    var message = document.querySelector("main p.error[id$='-error']");
    if (!message) return;
    var field = document.getElementById(message.id.slice(0, -"-error".length));
    invalid = field && field.matches("input, select, textarea") ? field : message;
  }
  if (invalid.matches("input, select, textarea")) invalid.focus({ preventScroll: true });
  invalid.scrollIntoView({ block: "center" });
});
