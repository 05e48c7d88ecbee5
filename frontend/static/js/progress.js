// Keeps the event page's analysis section current: asks the server every 2 s while photos are
// waiting or being analysed, and after each upload. All texts arrive translated in the answer.
"use strict";

(function () {
  const section = document.getElementById("processing");
  if (!section) {
    return;
  }
  const url = section.dataset.progressUrl;
  const tiles = document.getElementById("tiles");
  const template = document.getElementById("tile-template");
  const ANALYSED = ["ready", "needs_review"];
  const POLL_MS = 2000;
  const RETRY_MS = 5000;
  const MAX_FAILURES = 10;
  let timer = null;
  let failures = 0;

  function setText(node, value) {
    if (node && node.textContent !== value) {
      node.textContent = value;
    }
  }

  function placeholder() {
    const node = document.createElement("span");
    node.className = "tile-placeholder";
    node.setAttribute("aria-hidden", "true");
    return node;
  }

  function whenBroken(img) {
    // A thumbnail the verdict now hides answers 404: show the neutral placeholder instead.
    img.addEventListener("error", () => img.replaceWith(placeholder()));
  }

  function thumbnail(frame, photo) {
    const img = frame.querySelector("img");
    if (photo.thumb_url && !img) {
      const fresh = document.createElement("img");
      fresh.alt = "";
      fresh.loading = "lazy";
      fresh.width = photo.width;
      fresh.height = photo.height;
      whenBroken(fresh);
      fresh.src = photo.thumb_url;
      frame.replaceChildren(fresh);
    } else if (!photo.thumb_url && img) {
      frame.replaceChildren(placeholder());
    }
  }

  function tileFor(photo) {
    let tile = document.getElementById("photo-" + photo.id);
    if (!tile) {
      tile = template.content.firstElementChild.cloneNode(true);
      tile.id = "photo-" + photo.id;
      tile.dataset.id = photo.id;
      tiles.appendChild(tile);
    }
    return tile;
  }

  function updateTile(photo) {
    const tile = tileFor(photo);
    tile.dataset.status = photo.status;
    const link = tile.querySelector(".tile-link");
    if (link.getAttribute("href") !== photo.url) {
      link.setAttribute("href", photo.url);
    }
    setText(tile.querySelector(".tile-name"), photo.name);
    const badge = tile.querySelector(".tile-status");
    badge.className = "badge tile-status status-" + photo.status;
    setText(badge, photo.status_label);
    const faces = tile.querySelector(".tile-faces");
    setText(faces, photo.faces_label);
    faces.hidden = !ANALYSED.includes(photo.status);
    const error = tile.querySelector(".tile-error");
    setText(error, photo.error || "");
    error.hidden = !photo.error;
    const retry = tile.querySelector(".tile-retry");
    retry.action = "/staff/photos/" + photo.id + "/retry";
    setText(retry.querySelector(".tile-retry-name"), " " + photo.name);
    // A file that cannot be read fails the same way every time: no button to try again.
    retry.hidden = !photo.retryable;
    thumbnail(tile.querySelector(".tile-image"), photo);
  }

  function render(data) {
    setText(document.getElementById("analysed-label"), data.analysed_label);
    const bar = document.getElementById("analysed-bar");
    bar.max = data.total || 1;
    bar.value = data.analysed;
    for (const item of section.querySelectorAll(".status-counts li")) {
      setText(item.querySelector(".status-count"), String(data.counts[item.dataset.status] || 0));
    }
    setText(document.getElementById("review-label"), data.review_label);
    document.getElementById("no-photos").hidden = data.total > 0;
    data.photos.forEach(updateTile);
  }

  function schedule(delay) {
    if (timer === null) {
      timer = window.setTimeout(poll, delay);
    }
  }

  async function poll() {
    timer = null;
    let data;
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      data = await response.json();
    } catch (error) {
      // A signed-out session or a lost connection: try a few times more, then stop quietly.
      failures += 1;
      if (failures < MAX_FAILURES) {
        schedule(RETRY_MS);
      }
      return;
    }
    failures = 0;
    render(data);
    if (data.busy) {
      schedule(POLL_MS);
    }
  }

  tiles.querySelectorAll(".tile-image img").forEach(whenBroken);
  document.addEventListener("consentlens:uploaded", () => {
    failures = 0;
    schedule(300);
  });
  if (section.dataset.busy === "true") {
    schedule(POLL_MS);
  }
})();
