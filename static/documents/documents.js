// The documents page: upload with progress, follow each unfinished document
// until Luma has read it (both through Luma.uploads), delete with confirmation.
// Text from the server is only ever set with textContent.
(function () {
  "use strict";
  const { api, el } = window.Luma;
  const { upload: send, follow, isFinished } = window.Luma.uploads;
  const form = document.getElementById("upload-form");
  const fileInput = document.getElementById("upload-file");
  const importance = document.getElementById("upload-importance");
  const button = document.getElementById("upload-button");
  const bar = document.getElementById("upload-progress");
  const message = document.getElementById("upload-message");
  const body = document.getElementById("documents-body");
  const maxBytes = form ? Number(form.dataset.maxBytes) : 0;  // no form: this person may not upload
  const POLL_MS = 1500;
  const KINDS = { pdf: "PDF", xlsx: "Excel workbook", csv: "CSV", json: "JSON", txt: "Text" };
  const STATUSES = { queued: "Queued", processing: "Processing", done: "Done", failed: "Failed" };
  const polling = new Set();

  function size(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function statusCell(doc) {
    const cell = el("td", { class: "status status-" + doc.status }, STATUSES[doc.status] || doc.status);
    if (doc.status === "processing") cell.append(" " + doc.progress + "%");
    if (doc.error) cell.append(": ", el("span", { class: "error", text: doc.error }));
    return cell;
  }

  function row(doc) {
    const when = new Date(doc.created_at);
    return el("tr", { dataset: { id: doc.id, status: doc.status } },
      el("td", { class: "name", text: doc.name }),
      el("td", { text: KINDS[doc.kind] || doc.kind }),
      el("td", { text: size(doc.size) }),
      statusCell(doc),
      el("td", { class: "chunks", text: doc.chunk_count }),
      el("td", {}, el("time", { datetime: doc.created_at, text: when.toLocaleString() }),
        doc.uploaded_by ? " by " + doc.uploaded_by : ""),
      el("td", {}, el("button", { type: "button", class: "danger delete", dataset: { name: doc.name }, text: "Delete" })));
  }

  function show(doc) {
    const fresh = row(doc);
    const old = body.querySelector(`tr[data-id="${doc.id}"]`);
    if (old) old.replaceWith(fresh);
    else {
      body.querySelector("tr.empty")?.remove();
      body.prepend(fresh);
    }
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

  async function upload(file) {
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    say("Uploading " + file.name + "…");
    let answer;
    try {
      answer = await send(file, { importance: importance.value, onProgress: (percent) => { bar.value = percent; } });
    } catch (error) {
      finish();
      if (error.status === 0) say("Upload failed: the connection broke.", true);
      else say((error.body && error.body.message) || `Upload failed (${error.status}).`, true);
      return;
    }
    finish();
    show(answer.document);
    say(answer.created ? `Uploaded ${answer.document.name}: Luma is reading it.`
      : `${answer.document.name} was uploaded before: here it is.`);
  }

  function finish() {
    button.disabled = false;
    bar.hidden = true;
    form.reset();
  }

  if (form) form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) return;
    if (file.size > maxBytes) {
      say(`${file.name} is ${size(file.size)}; the largest upload is ${size(maxBytes)}.`, true);
      return;
    }
    upload(file);
  });

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
