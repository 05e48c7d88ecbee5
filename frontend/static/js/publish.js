// The photos below are judged for one use and one event: changing either shows them again at
// once, so that a ZIP is never made from a list judged for something else. (Without script the
// server refuses a download whose use differs from the one the photos were shown for.)
"use strict";

(function () {
  const form = document.getElementById("publish-form");
  const show = document.getElementById("show-photos");
  const use = document.getElementById("use");
  if (!form || !show || !use || !form.querySelector(".pub-tile")) {
    return;
  }
  let leaving = false;
  const refresh = () => {
    if (leaving) {
      return;
    }
    leaving = true;
    const download = document.getElementById("download");
    if (download) {
      download.disabled = true;
    }
    const step = document.getElementById("pub-step");
    if (step) {
      step.setAttribute("aria-busy", "true");
      step.classList.add("pub-stale");
    }
    document.getElementById("pub-updating").hidden = false;
    if (form.requestSubmit) {
      form.requestSubmit(show);
    } else {
      show.click();
    }
  };
  use.addEventListener("change", refresh);
  const event = document.getElementById("event");
  if (event) {
    event.addEventListener("change", refresh);
  }
  // A page restored from the back/forward cache, or a browser that restores form fields on
  // reload, may show a dropdown that no longer matches the photos.
  window.addEventListener("pageshow", (shown) => {
    if (shown.persisted) {
      leaving = false;
    }
    if (use.value !== form.dataset.shownUse) {
      refresh();
    }
  });
})();
