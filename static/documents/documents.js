// The documents page: upload several files at once (chosen, or dropped anywhere on
// the page), each with its own progress line; follow each unfinished document until
// Luma has read it (both through Luma.uploads); delete with confirmation.
// Text from the server is only ever set with textContent.
(function () {
  "use strict";
  const { api, el, timeElement } = window.Luma;
  const { upload: send, follow, isFinished, dropZone, eachLimited } = window.Luma.uploads;
  const form = document.getElementById("upload-form");
  const fileInput = document.getElementById("upload-file");
  const importance = document.getElementById("upload-importance");
  const hiddenSheets = document.getElementById("upload-hidden-sheets");
  const button = document.getElementById("upload-button");
  const list = document.getElementById("upload-list");
  const message = document.getElementById("upload-message");
  const body = document.getElementById("documents-body");
  const maxBytes = form ? Number(form.dataset.maxBytes) : 0;  // no form: this person may not upload
  const POLL_MS = 1500;
  const UPLOADS_AT_ONCE = 3;
  const KINDS = {
    pdf: "PDF", xlsx: "Excel workbook", csv: "CSV", json: "JSON", txt: "Text",
    docx: "Word document", md: "Markdown", html: "Web page (HTML)",
  };
  const STATUSES = { queued: "Queued", processing: "Processing", done: "Done", failed: "Failed" };
  const polling = new Set();
  const lines = new Map();  // document id -> the upload lines showing it

  function size(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  const pageOf = (doc) => `/documents/${doc.id}/`;

  function statusCell(doc) {
    const cell = el("td", { class: "status status-" + doc.status, dataset: { label: "Status" } },
      STATUSES[doc.status] || doc.status);
    if (doc.status === "processing") cell.append(" " + doc.progress + "%");
    if (doc.error) cell.append(": ", el("span", { class: "error", text: doc.error }));
    return cell;
  }

  function row(doc) {
    return el("tr", { dataset: { id: doc.id, status: doc.status } },
      el("td", { class: "name" }, el("a", { href: pageOf(doc), text: doc.name })),
      el("td", { text: KINDS[doc.kind] || doc.kind, dataset: { label: "Type" } }),
      el("td", { text: size(doc.size), dataset: { label: "Size" } }),
      statusCell(doc),
      el("td", { class: "chunks", text: doc.chunk_count, dataset: { label: "Chunks" } }),
      el("td", { dataset: { label: "Uploaded" } },
        timeElement(doc.created_at),
        doc.uploaded_by ? " by " + doc.uploaded_by : ""),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "danger delete", dataset: { name: doc.name }, text: "Delete" })));
  }

  function show(doc) {
    const fresh = row(doc);
    const old = body.querySelector(`tr[data-id="${doc.id}"]`);
    if (old) old.replaceWith(fresh);
    else {
      body.querySelector("tr.empty")?.remove();
      body.prepend(fresh);
    }
    for (const line of lines.get(doc.id) || []) lineShows(line, doc);
    if (!isFinished(doc)) poll(doc.id);
  }

  // One follower per document, however often it is shown; it keeps going while
  // the page is open, and stops once the document is gone (404).
  function poll(id) {
    if (polling.has(id)) return;
    polling.add(id);
    follow(id, { interval: () => POLL_MS, onStatus: show }).then(
      (doc) => { polling.delete(id); if (doc && !isFinished(doc)) poll(id); },
      (error) => { polling.delete(id); if (error.status !== 404) setTimeout(() => poll(id), POLL_MS * 4); });
  }

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
  }

  // An upload's own line: the file's name, a progress bar and where it stands.
  function addLine(file) {
    const line = el("li", { class: "upload-item", dataset: { name: file.name } },
      el("span", { class: "upload-name", text: file.name }),
      el("progress", { max: 100, value: 0, "aria-label": `Progress of ${file.name}` }),
      el("span", { class: "upload-state", text: "Waiting…" }));
    list.append(line);
    return line;
  }

  function lineSays(line, text, { percent = null, state = "" } = {}) {
    line.querySelector(".upload-state").textContent = text;
    const bar = line.querySelector("progress");
    if (percent === null) bar.removeAttribute("value");  // indeterminate
    else bar.value = percent;
    line.classList.toggle("done", state === "done");
    line.classList.toggle("failed", state === "failed");
  }

  function lineShows(line, doc) {
    const name = line.querySelector(".upload-name");
    if (!name.querySelector("a")) name.replaceChildren(el("a", { href: pageOf(doc), text: doc.name }));
    if (doc.status === "done") {
      lineSays(line, `Done · ${doc.chunk_count} chunk${doc.chunk_count === 1 ? "" : "s"}`, { percent: 100, state: "done" });
    } else if (doc.status === "failed") {
      lineSays(line, "Failed: " + (doc.error || "Luma could not read it."), { percent: 0, state: "failed" });
    } else if (doc.status === "processing") {
      lineSays(line, `Luma is reading it… ${doc.progress}%`, { percent: doc.progress });
    } else {
      lineSays(line, "Uploaded; waiting for Luma to read it…", { percent: null });
    }
  }

  async function uploadOne(file, line) {
    if (file.size > maxBytes) {
      const reason = `${file.name} is ${size(file.size)}; the largest upload is ${size(maxBytes)}.`;
      lineSays(line, reason, { percent: 0, state: "failed" });
      say(reason, true);
      return;
    }
    lineSays(line, "Uploading… 0%");
    let answer;
    try {
      answer = await send(file, {
        importance: importance.value,
        includeHiddenSheets: hiddenSheets.checked,
        onProgress: (percent) => lineSays(line, `Uploading… ${percent}%`, { percent }),
      });
    } catch (error) {
      const reason = error.status === 0 ? "the connection broke." : error.message;
      lineSays(line, "Upload failed: " + reason, { percent: 0, state: "failed" });
      say(`Upload of ${file.name} failed: ${reason}`, true);
      return;
    }
    const doc = answer.document;
    if (!lines.has(doc.id)) lines.set(doc.id, []);
    lines.get(doc.id).push(line);
    show(doc);
    say(answer.created ? `Uploaded ${doc.name}: Luma is reading it.`
      : `${doc.name} was uploaded before: here it is.`);
  }

  // Every file gets its line at once; a few are sent at a time.
  function uploadAll(files) {
    const work = files.map((file) => ({ file, line: addLine(file) }));
    return eachLimited(work, UPLOADS_AT_ONCE, ({ file, line }) => uploadOne(file, line));
  }

  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const files = Array.from(fileInput.files);
      if (!files.length) return;
      button.disabled = true;
      await uploadAll(files);
      button.disabled = false;
      fileInput.value = "";
    });
    dropZone(document.getElementById("drop-zone"), uploadAll);
  }

  body.addEventListener("click", async (event) => {
    const target = event.target.closest("button.delete");
    if (!target) return;
    const tr = target.closest("tr");
    if (!confirm(`Delete ${target.dataset.name} and everything Luma remembers from it?`)) return;
    target.disabled = true;
    try {
      await api("/api/documents/" + tr.dataset.id, { method: "DELETE" });
      tr.remove();
      say(`Deleted ${target.dataset.name}.`);
    } catch (error) {
      target.disabled = false;
      say(error.message, true);
    }
  });

  for (const tr of body.querySelectorAll("tr[data-id]")) {
    if (!isFinished(tr.dataset)) poll(Number(tr.dataset.id));
  }
})();
