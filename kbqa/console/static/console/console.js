// Admin console: drag-and-drop upload through POST /api/v1/documents/ (one request per file, so
// each file has its own progress bar), then live states from the console's status endpoint until
// every document is indexed or failed; failures show their reason and a retry button.
(() => {
  "use strict";

  const strings = JSON.parse(document.getElementById("strings")?.textContent || "{}");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const POLL_MS = 1500;
  const PARALLEL_UPLOADS = 2;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const format = (template, values) =>
    template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));

  // The server's reason from its one error body ({"error": {"code", "message", "fields"}}).
  const reasonOf = (body) => body?.error?.message || strings.network;

  // Confirmation for destructive forms (delete), on every console page.
  document.addEventListener("submit", (event) => {
    const message = event.target.dataset?.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // --- Live states ---------------------------------------------------------------------------------
  const tracked = new Map(); // document id -> callback(row)
  let statusUrl = null;
  let polling = false;

  async function poll() {
    if (polling) return;
    polling = true;
    while (tracked.size) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const ids = [...tracked.keys()].join(",");
      try {
        const response = await fetch(`${statusUrl}?ids=${ids}`, { credentials: "same-origin" });
        if (!response.ok) continue;
        for (const row of (await response.json()).documents) {
          const update = tracked.get(row.id);
          if (!update) continue;
          update(row);
          if (!row.busy && row.status !== "uploaded") tracked.delete(row.id);
        }
      } catch (_) {
        /* the server restarted: keep polling */
      }
    }
    polling = false;
  }

  function track(id, update) {
    tracked.set(id, update);
    poll();
  }

  // --- Upload page ------------------------------------------------------------------------------
  const dropzone = document.getElementById("dropzone");
  if (dropzone) {
    statusUrl = dropzone.dataset.statusUrl;
    const list = document.getElementById("uploads");
    const input = document.getElementById("file-input");
    const queue = [];
    let running = 0;

    function entry(name, detailText) {
      const li = el("li", "upload");
      const title = el("span", "name", name);
      title.title = name;
      const state = el("span", "state", strings.uploading);
      const bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", name);
      const detail = el("span", "detail muted", detailText || "");
      li.append(title, state, bar, detail);
      list.prepend(li);
      return { li, state, bar, detail };
    }

    function showRow(item, row) {
      item.li.className = `upload ${row.status}`;
      item.li.dataset.document = row.id;
      item.state.className = `state state-${row.status}`;
      item.state.textContent = row.status === "embedding" ? `${row.label} ${row.progress}%` : row.label;
      item.bar.value = row.percent;
      item.detail.className = `detail ${row.error ? "error" : "muted"}`;
      item.detail.textContent = row.error || row.notes || "";
      item.li.querySelector(".retry")?.remove();
      // Retry only where another run can succeed (not a password-protected or empty file).
      if (row.status === "failed" && row.retryable) {
        addRetry(item, () => retry(item, row.id));
      }
    }

    function addRetry(item, action) {
      const button = el("button", "button retry", `↻ ${strings.retry}`);
      button.type = "button";
      button.addEventListener("click", () => {
        button.remove();
        action();
      });
      item.li.append(button);
    }

    function failed(item, reason, again) {
      item.li.className = "upload failed";
      item.state.className = "state state-failed";
      item.state.textContent = strings.status_failed;
      item.detail.className = "detail error";
      item.detail.textContent = reason;
      if (again) addRetry(item, again);
    }

    function follow(item, document) {
      showRow(item, { ...document, label: strings[`status_${document.status}`], percent: 10 });
      track(document.id, (row) => showRow(item, row));
    }

    async function retry(item, id) {
      const form = new FormData();
      form.append("retry", "1");
      let response;
      try {
        response = await fetch(dropzone.dataset.reindexUrl.replace("/0/", `/${id}/`), {
          method: "POST",
          headers: { "X-CSRFToken": csrf, Accept: "application/json" },
          credentials: "same-origin",
          body: form,
        });
      } catch (_) {
        failed(item, strings.network, () => retry(item, id));
        return;
      }
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        failed(item, reasonOf(body));
        return;
      }
      follow(item, body.document);
    }

    function showResult(item, file, status, body) {
      if (status === 201 && body.id) {
        follow(item, body);
      } else if (status === 409 && body.document) {
        item.li.className = "upload duplicate";
        item.state.textContent = strings.already_stored;
        item.detail.textContent = format(strings.duplicate, { title: body.document.title });
      } else if (body.created) {
        // A ZIP archive (or several files): one entry per member.
        item.li.className = "upload archive";
        item.state.textContent = format(strings.archive_summary, {
          created: body.created.length,
          duplicates: body.duplicates.length,
          rejected: body.rejected.length,
        });
        item.bar.value = 100;
        item.detail.textContent = body.created.length ? "" : strings.nothing_new;
        const origin = format(strings.from_archive, { archive: file.name });
        for (const document of body.created) follow(entry(document.title, origin), document);
        for (const duplicate of body.duplicates) {
          const child = entry(duplicate.file, origin);
          child.li.className = "upload duplicate";
          child.state.textContent = strings.already_stored;
          child.detail.textContent = format(strings.duplicate, { title: duplicate.document.title });
        }
        for (const rejected of body.rejected) failed(entry(rejected.file, origin), rejected.error);
      } else if (status >= 400 && status < 500) {
        // Refused: the same file would be refused again. An archive lists each member's reason.
        failed(item, body.rejected ? format(strings.archive_summary, {
          created: 0, duplicates: 0, rejected: body.rejected.length,
        }) : reasonOf(body));
        const origin = format(strings.from_archive, { archive: file.name });
        for (const rejected of body.rejected || []) {
          failed(entry(rejected.file, origin), rejected.error);
        }
      } else {
        failed(item, reasonOf(body), () => enqueue(file, item));
      }
    }

    function send(file, item) {
      return new Promise((resolve) => {
        const request = new XMLHttpRequest();
        request.open("POST", dropzone.dataset.uploadUrl);
        request.setRequestHeader("X-CSRFToken", csrf);
        request.setRequestHeader("Accept", "application/json");
        request.upload.addEventListener("progress", (event) => {
          if (!event.lengthComputable) return;
          const percent = Math.round((100 * event.loaded) / event.total);
          item.bar.value = percent;
          item.state.textContent = `${strings.uploading} ${percent}%`;
        });
        request.addEventListener("load", () => {
          let body = {};
          try {
            body = JSON.parse(request.responseText);
          } catch (_) {
            /* an HTML error page */
          }
          showResult(item, file, request.status, body);
          resolve();
        });
        request.addEventListener("error", () => {
          failed(item, strings.network, () => enqueue(file, item));
          resolve();
        });
        const form = new FormData();
        form.append("file", file, file.name);
        request.send(form);
      });
    }

    function next() {
      while (running < PARALLEL_UPLOADS && queue.length) {
        const [file, item] = queue.shift();
        running += 1;
        send(file, item).finally(() => {
          running -= 1;
          next();
        });
      }
    }

    function enqueue(file, item) {
      if (item) {
        item.li.className = "upload";
        item.state.className = "state";
        item.state.textContent = strings.uploading;
        item.detail.textContent = "";
        item.bar.value = 0;
      }
      queue.push([file, item || entry(file.name)]);
      next();
    }

    function addFiles(files) {
      for (const file of files) enqueue(file);
    }

    // Recent documents still being ingested (e.g. uploaded before a reload) update live too.
    for (const li of document.querySelectorAll("#recent .upload[data-document]")) {
      if (!["queued", "parsing", "embedding"].some((state) => li.classList.contains(state))) continue;
      const item = {
        li,
        state: li.querySelector(".state"),
        bar: li.querySelector("progress"),
        detail: li.querySelector(".detail") || li.appendChild(el("span", "detail muted")),
      };
      track(Number(li.dataset.document), (row) => showRow(item, row));
    }

    input.addEventListener("change", () => {
      addFiles(input.files);
      input.value = "";
    });
    for (const name of ["dragenter", "dragover"]) {
      dropzone.addEventListener(name, (event) => {
        event.preventDefault();
        dropzone.classList.add("over");
      });
    }
    for (const name of ["dragleave", "drop"]) {
      dropzone.addEventListener(name, () => dropzone.classList.remove("over"));
    }
    dropzone.addEventListener("drop", (event) => {
      event.preventDefault();
      addFiles(event.dataTransfer.files);
    });
  }

  // --- Document list: rows in progress update themselves; a finished one reloads the page --------
  const table = document.getElementById("documents");
  if (table) {
    statusUrl = table.dataset.statusUrl;
    for (const tr of table.querySelectorAll("tbody tr[data-document]")) {
      if (!["queued", "parsing", "embedding"].includes(tr.className)) continue;
      track(Number(tr.dataset.document), (row) => {
        if (!row.busy) {
          window.location.reload();
          return;
        }
        tr.querySelector(".state").textContent =
          row.status === "embedding" ? `${row.label} ${row.progress}%` : row.label;
        const bar = tr.querySelector("progress");
        if (bar) bar.value = row.percent;
      });
    }
  }
})();
