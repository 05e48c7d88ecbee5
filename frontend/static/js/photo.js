// Draws the face boxes over the photo: boxes are stored in the original's pixels, so they are
// placed as percentages and follow the image at any displayed size.
"use strict";

(function () {
  const frame = document.getElementById("photo-frame");
  if (!frame) {
    return;
  }
  const width = Number(frame.dataset.width);
  const height = Number(frame.dataset.height);
  if (!width || !height) {
    return;
  }
  const percent = (value, whole) => (100 * Number(value)) / whole + "%";
  for (const box of frame.querySelectorAll(".face-box")) {
    box.style.left = percent(box.dataset.x, width);
    box.style.top = percent(box.dataset.y, height);
    box.style.width = percent(box.dataset.w, width);
    box.style.height = percent(box.dataset.h, height);
    box.hidden = false;
  }
  const toggle = document.getElementById("show-boxes");
  if (toggle) {
    toggle.closest("label").hidden = false;
    toggle.addEventListener("change", () => frame.classList.toggle("show-boxes", toggle.checked));
  }
})();
