// The sign-in code from a QR link: https://host/enroll#K7M4Q9XP.
// Browsers never send what follows "#", so the code is in no request path and no access log.
// Take it from the address (and out of the address bar and history), put it in the form, post it.
(function () {
  "use strict";
  var code = "";
  try {
    code = decodeURIComponent(window.location.hash.slice(1));
  } catch (e) {
    return; // a malformed fragment: the person types the code instead
  }
  if (!code) {
    return;
  }
  window.history.replaceState(null, "", window.location.pathname);
  var form = document.querySelector("form[data-enroll-code]");
  if (!form || !form.elements.code) {
    return;
  }
  form.elements.code.value = code.slice(0, 20);
  form.submit();
})();
