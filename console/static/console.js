// WEL.CO.ME staff console: small helpers, no build step, no inline scripts (CSP).
"use strict";

// fetch() for JSON calls from console pages: sends the session's CSRF token as a header.
window.consoleFetch = function (url, options) {
  const opts = Object.assign({ credentials: "same-origin" }, options || {});
  const headers = new Headers(opts.headers || {});
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) headers.set("X-CSRF-Token", meta.content);
  if (!headers.has("Accept")) headers.set("Accept", "application/json");
  opts.headers = headers;
  return fetch(url, opts);
};

// Forms with data-confirm ask before submitting (deactivations, password resets).
document.addEventListener("submit", function (event) {
  const form = event.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
