// The SJA form: each hazard's score (probability x consequence) shown with its colour and its words while the
// crew fills it in; an amber or red hazard without a measure is stopped here with the server's own message
// (the server checks the same rule: fieldapp/sja/service.py); rows beyond the first empty one are folded away
// behind "Add a step" / "Add a hazard". A queued new SJA leaves the page at an address that opens the saved SJA
// once the outbox has sent it (outbox.js reloads the page then). No inline script (CSP).
(function () {
  "use strict";
  var form = document.querySelector("form.sja-form");
  if (!form) return;
  var greenMax = parseInt(form.dataset.greenMax, 10), amberMax = parseInt(form.dataset.amberMax, 10);

  function value(hazard, suffix) {
    var input = hazard.querySelector('[name$="-' + suffix + '"]');
    return input ? input.value.trim() : "";
  }

  function level(score) {
    if (!score) return null;
    return score <= greenMax ? "green" : score <= amberMax ? "amber" : "red";
  }

  function isEmpty(box) {
    return Array.prototype.every.call(box.querySelectorAll("input, select, textarea"), function (i) { return !i.value.trim(); });
  }

  // -> true when the hazard is amber or red and has no measure (its message is then shown).
  function show(hazard) {
    var p = parseInt(value(hazard, "probability"), 10), c = parseInt(value(hazard, "severity"), 10);
    var score = p && c ? p * c : 0, lvl = level(score);
    var out = hazard.querySelector(".sja-score");
    out.hidden = !lvl;
    out.className = "sja-score badge risk" + (lvl ? " risk-" + lvl : "");
    out.textContent = lvl ? p + " x " + c + " = " + score + " · " + form.dataset["level" + lvl.charAt(0).toUpperCase() + lvl.slice(1)] : "";
    var missing = (lvl === "amber" || lvl === "red") && !value(hazard, "measure");
    var note = hazard.querySelector(".sja-measure-needed");
    note.textContent = missing ? form.dataset.measureNeeded : "";
    note.hidden = !missing;
    return missing;
  }

  form.addEventListener("input", function (event) {
    var hazard = event.target.closest(".sja-hazard");
    if (hazard) show(hazard);
  });
  form.addEventListener("change", function (event) {
    var hazard = event.target.closest(".sja-hazard");
    if (hazard) show(hazard);
  });

  // Runs before outbox.js (which listens on the document): a refused form is never queued.
  form.addEventListener("submit", function (event) {
    var first = null;
    form.querySelectorAll(".sja-hazard").forEach(function (hazard) {
      if (show(hazard) && !first) first = hazard;
    });
    if (first) {
      event.preventDefault();
      event.stopPropagation();
      first.hidden = false;
      first.closest(".sja-step").hidden = false;
      first.querySelector('[name$="-measure"]').focus();
      return;
    }
    var uuid = form.querySelector("input[name=uuid]");
    if (form.dataset.byUuid && uuid && window.history && history.replaceState) {
      history.replaceState(null, "", form.dataset.byUuid + uuid.value);
    }
  });

  // A new SJA kept on the phone (no signal): the form gives way to a clear "saved on the phone" card with the
  // SJA's title (issue 18: the person was left on an empty form). outbox.js shows the form's .outbox-note with
  // the item's uuid once the item waits for signal; when it is sent, outbox.js reloads this page, whose address
  // (/sja/u/<uuid>) then opens the saved SJA.
  var saved = document.querySelector("[data-sja-saved]"), note = form.parentNode.querySelector(".outbox-note");
  if (saved && note && window.MutationObserver) {
    var title = form.querySelector("#title");
    form.addEventListener("submit", function () { saved.dataset.title = title ? title.value.trim() : ""; });
    new MutationObserver(function () {
      if (!note.hidden && note.classList.contains("error")) {  // refused when sent: the form again, with why
        saved.hidden = true;
        form.closest("section").hidden = false;
        return;
      }
      if (note.hidden || !note.dataset.uuid) return;
      saved.querySelector(".sja-saved-title").textContent = saved.dataset.title || "";
      form.closest("section").hidden = true;
      saved.hidden = false;
      window.scrollTo(0, 0);
    }).observe(note, { attributes: true, attributeFilter: ["hidden", "data-uuid", "class"] });
  }

  // Fold: in each step the hazards after its first empty one, and the steps after the first empty one.
  function fold(boxes, button) {
    var seenEmpty = false;
    boxes.forEach(function (box) {
      var empty = isEmpty(box);
      box.hidden = empty && seenEmpty;
      if (empty) seenEmpty = true;
    });
    if (!button) return;
    var update = function () { button.hidden = !boxes.some(function (b) { return b.hidden; }); };
    update();
    button.addEventListener("click", function () {
      var next = boxes.filter(function (b) { return b.hidden; })[0];
      if (next) { next.hidden = false; var input = next.querySelector("input, select, textarea"); if (input) input.focus(); }
      update();
    });
  }

  var steps = Array.prototype.slice.call(form.querySelectorAll(".sja-step"));
  steps.forEach(function (step) {
    fold(Array.prototype.slice.call(step.querySelectorAll(".sja-hazard")), step.querySelector(".sja-add-hazard"));
  });
  fold(steps, form.querySelector(".sja-add-step"));
  form.querySelectorAll(".sja-hazard").forEach(show);
})();
