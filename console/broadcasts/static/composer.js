// WEL.CO.ME console, "Avvisi": live preview and recipient count in the composer, live
// progress on a broadcast's page. No inline scripts (CSP); JSON calls via consoleFetch.
"use strict";

(function () {
  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function setupComposer(form) {
    const preview = document.getElementById("preview");
    const length = document.getElementById("preview-length");
    const count = document.getElementById("audience-count");
    const image = document.getElementById("image");

    const refreshPreview = debounce(function () {
      const body = {
        title: form.elements.title.value,
        body: form.elements.body.value,
        with_image: image && image.files && image.files.length ? "1" : "",
      };
      window.consoleFetch(form.dataset.preview, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          preview.innerHTML = data.html; // sanitised by the server: only b, i, a
          length.textContent = data.length + " / " + data.limit + " caratteri" +
            (data.too_long ? " — troppo lungo" : "");
          length.classList.toggle("error", !!data.too_long);
        })
        .catch(function () { length.textContent = "Anteprima non disponibile."; });
    }, 250);

    const refreshCount = debounce(function () {
      const params = new URLSearchParams();
      form.querySelectorAll('input[name="quartieri"]:checked').forEach(function (box) {
        params.append("quartieri", box.value);
      });
      form.querySelectorAll('input[name="interests"]:checked').forEach(function (box) {
        params.append("interests", box.value);
      });
      window.consoleFetch(form.dataset.audience + "?" + params.toString())
        .then(function (r) { return r.json(); })
        .then(function (data) {
          count.textContent = String(data.total);
          form.setAttribute("data-confirm",
            "Confermi l'invio dell'avviso a " + data.total + " destinatari?");
        })
        .catch(function () { count.textContent = "—"; });
    }, 200);

    form.addEventListener("input", function (event) {
      const name = event.target.name;
      if (name === "title" || name === "body") refreshPreview();
    });
    form.addEventListener("change", function (event) {
      const name = event.target.name;
      if (name === "quartieri" || name === "interests") refreshCount();
      if (name === "image") refreshPreview();
    });
    refreshPreview();
    refreshCount();
  }

  function setupProgress(section) {
    const bar = document.getElementById("progress-bar");
    let status = section.dataset.status;
    if (status !== "scheduled" && status !== "running") return;
    const timer = setInterval(function () {
      window.consoleFetch(section.dataset.progress)
        .then(function (r) { return r.json(); })
        .then(function (data) {
          section.querySelectorAll("[data-field]").forEach(function (el) {
            const value = data[el.dataset.field];
            if (value !== undefined) el.textContent = String(value);
          });
          bar.value = data.done_percent;
          bar.textContent = data.done_percent + "%";
          if (data.status !== status) {
            status = data.status;
            section.dataset.status = status;
          }
          if (status === "done" || status === "cancelled") {
            clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () { /* try again at the next tick */ });
    }, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("composer");
    if (form) setupComposer(form);
    const report = document.getElementById("report");
    if (report) setupProgress(report);
  });
})();
