// Uploads an event's photos one file per request, at most two at a time, with a progress bar per
// file and overall; a file that fails can be sent again on its own. Texts come from the page.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  if (!form) {
    return;
  }
  const input = document.getElementById("upload-files");
  const zone = document.getElementById("dropzone");
  const box = document.getElementById("upload-status");
  const list = document.getElementById("upload-list");
  const overall = document.getElementById("upload-overall");
  const overallLabel = document.getElementById("upload-overall-label");
  const live = document.getElementById("upload-live");
  const csrf = form.querySelector('input[type="hidden"]');
  const text = form.dataset;
  const MAX_PARALLEL = 2;
  // A one-off notice ("event created") must not come back on every reload of the page.
  if (new URLSearchParams(location.search).has("done")) {
    history.replaceState(null, "", location.pathname + location.hash);
  }
  const items = [];
  let active = 0;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content !== undefined) {
      node.textContent = content;
    }
    return node;
  }

  function makeRow(item) {
    const row = element("li", "upload-item");
    const name = element("span", "upload-name", item.file.name);
    name.tabIndex = -1;
    const bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", item.file.name);
    const state = element("span", "upload-state", text.tWaiting);
    const retry = element("button", "button upload-retry", text.tRetry);
    retry.type = "button";
    retry.hidden = true;
    retry.appendChild(element("span", "visually-hidden", " " + item.file.name));
    retry.addEventListener("click", () => {
      item.state = "waiting";
      item.loaded = 0;
      show(item, "", text.tWaiting);
      // The button disappears; keep the keyboard user's place in the list.
      name.focus();
      pump();
    });
    row.append(name, retry, bar, state);
    item.row = row;
    item.bar = bar;
    item.stateText = state;
    item.retry = retry;
    return row;
  }

  function show(item, modifier, message, retryable) {
    item.row.classList.remove("is-done", "is-failed");
    if (modifier) {
      item.row.classList.add(modifier);
    }
    item.stateText.textContent = message;
    item.retry.hidden = modifier !== "is-failed" || !retryable;
  }

  function refreshOverall() {
    let total = 0;
    let loaded = 0;
    let uploaded = 0;
    for (const item of items) {
      total += item.file.size;
      loaded += item.state === "done" || item.state === "failed" ? item.file.size : item.loaded;
      if (item.state === "done") {
        uploaded += 1;
      }
    }
    overall.value = total ? Math.round((loaded / total) * 100) : 100;
    overallLabel.textContent = fill(text.tOverall, { done: uploaded, total: items.length });
    const settled = items.every((item) => item.state === "done" || item.state === "failed");
    if (settled && items.length) {
      live.textContent = fill(text.tFinished, {
        ok: uploaded,
        failed: items.filter((item) => item.state === "failed").length,
      });
    }
  }

  // `final`: the server refused the file itself (its type, size or content): sending the same
  // file again gets the same answer, so no Retry button is offered.
  function finished(item, ok, message, final) {
    active -= 1;
    item.state = ok ? "done" : "failed";
    item.bar.value = ok ? 100 : item.bar.value;
    show(item, ok ? "is-done" : "is-failed", message, !final);
    refreshOverall();
    if (ok) {
      document.dispatchEvent(new CustomEvent("consentlens:uploaded"));
    }
    pump();
  }

  function answered(item, xhr) {
    if (xhr.status === 403 || xhr.status === 401) {
      finished(item, false, text.tSession);
      return;
    }
    if (xhr.status === 413 || xhr.status === 503) {
      // Too large to send, or the file storage is down: the server says so, in the reader's
      // language.
      let detail = "";
      try {
        detail = JSON.parse(xhr.responseText).detail || "";
      } catch (error) {
        detail = "";
      }
      finished(item, false, detail || fill(text.tServer, { status: xhr.status }), xhr.status === 413);
      return;
    }
    let result = null;
    if (xhr.status === 200) {
      try {
        result = JSON.parse(xhr.responseText)[0] || null;
      } catch (error) {
        result = null;
      }
    }
    if (!result) {
      finished(item, false, fill(text.tServer, { status: xhr.status }));
    } else if (result.error) {
      finished(item, false, result.error, result.final !== false);
    } else if (!result.duplicate) {
      finished(item, true, text.tKept);
    } else {
      const here = String(result.event_id) === text.eventId;
      finished(item, true, here ? text.tDuplicate : text.tElsewhere);
    }
  }

  function send(item) {
    active += 1;
    item.state = "uploading";
    item.loaded = 0;
    show(item, "", text.tUploading);
    const data = new FormData();
    data.append(csrf.name, csrf.value);
    data.append("files", item.file, item.file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total) {
        item.loaded = (event.loaded / event.total) * item.file.size;
        item.bar.value = Math.round((event.loaded / event.total) * 100);
        refreshOverall();
      }
    });
    xhr.addEventListener("load", () => answered(item, xhr));
    xhr.addEventListener("error", () => finished(item, false, text.tNetwork));
    xhr.addEventListener("abort", () => finished(item, false, text.tNetwork));
    xhr.addEventListener("timeout", () => finished(item, false, text.tNetwork));
    xhr.send(data);
  }

  function pump() {
    while (active < MAX_PARALLEL) {
      const next = items.find((item) => item.state === "waiting");
      if (!next) {
        break;
      }
      send(next);
    }
    refreshOverall();
  }

  function add(files) {
    if (!files || !files.length) {
      return;
    }
    for (const file of files) {
      const item = { file: file, state: "waiting", loaded: 0 };
      items.push(item);
      list.appendChild(makeRow(item));
    }
    box.hidden = false;
    live.textContent = "";
    // "The event was created. Add its photos below." is done with once photos are being added.
    const notice = document.getElementById("page-notice");
    if (notice) {
      notice.remove();
    }
    pump();
  }

  input.addEventListener("change", () => {
    add(Array.from(input.files));
    // Choosing the same files again later must fire `change` again.
    input.value = "";
  });
  // The script sends the files itself; a plain submit would send them all in one request.
  form.addEventListener("submit", (event) => event.preventDefault());

  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("is-over");
    });
  }
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) {
      zone.classList.remove("is-over");
    }
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("is-over");
    add(Array.from(event.dataTransfer.files));
  });
  // A file dropped just beside the area must not make the browser leave the page to open it.
  for (const name of ["dragover", "drop"]) {
    document.addEventListener(name, (event) => event.preventDefault());
  }
})();
