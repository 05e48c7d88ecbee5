// The arrow keys step to the previous or next photo, as the two links under the photo do.
"use strict";

(function () {
  const links = document.querySelectorAll(".g-step a[data-key]");
  if (!links.length) {
    return;
  }
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    // Typing a message to the club must not leave the page.
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) {
      return;
    }
    for (const link of links) {
      if (link.dataset.key === event.key) {
        event.preventDefault();
        window.location.assign(link.href);
        return;
      }
    }
  });
})();
