// Document uploads, shared by the chat and the documents page: send the file
// with upload progress (XHR, since fetch reports none), then follow the
// document while Luma reads it in the background. Statuses and fields are the
// documents API's own (documents/schemas.py DocumentOut): `status` is queued,
// processing, done or failed; `progress` is a percent; `chunk_count` and
// `error` say how it ended.
(function () {
  "use strict";
  const { api, ApiError, csrfToken } = window.Luma;
  const FINISHED = new Set(["done", "failed"]);
  const MAX_POLLS = 600;

  const isFinished = (doc) => FINISHED.has(doc.status);

  // The server's reason for refusing an upload, or the HTTP status line.
  function refusal(request, body) {
    const reason = body && (body.message || (typeof body.detail === "string" && body.detail));
    return reason || `${request.status} ${request.statusText || "error"}`;
  }

  // POST /api/documents (multipart `file`, optional `importance`, and
  // `include_hidden_sheets` when asked for). Resolves with {document, created}:
  // created is false when the same content was uploaded before and that document
  // came back. Rejects with a Luma.ApiError whose status is 0 when the connection
  // broke, and whose body is the server's answer.
  function upload(file, { importance, includeHiddenSheets = false, onProgress = () => {} } = {}) {
    const form = new FormData();
    form.append("file", file);
    if (importance !== undefined && importance !== null && importance !== "") form.append("importance", importance);
    if (includeHiddenSheets) form.append("include_hidden_sheets", "true");
    const request = new XMLHttpRequest();
    request.open("POST", "/api/documents");
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    return new Promise((resolve, reject) => {
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(Math.round((100 * event.loaded) / event.total));
      });
      request.addEventListener("load", () => {
        let body = null;
        try { body = JSON.parse(request.responseText); } catch (_) { /* an HTML error page */ }
        if (request.status >= 200 && request.status < 300 && body && body.id !== undefined) {
          resolve({ document: body, created: request.status === 201 });
        } else {
          reject(new ApiError(refusal(request, body), request.status, body));
        }
      });
      request.addEventListener("error", () => reject(new ApiError("the connection dropped", 0, null)));
      request.send(form);
    });
  }

  // Polls GET /api/documents/{id} until its status is done or failed, calling
  // onStatus with each answer. Resolves with the last answer (finished unless
  // MAX_POLLS ran out first); rejects with the Luma.ApiError of a failed poll.
  async function follow(id, { onStatus = () => {}, interval = (poll) => (poll < 20 ? 1000 : 3000) } = {}) {
    let doc = null;
    for (let poll = 0; poll < MAX_POLLS; poll++) {
      await new Promise((resolve) => setTimeout(resolve, interval(poll)));
      doc = await api(`/api/documents/${id}`);
      onStatus(doc);
      if (isFinished(doc)) break;
    }
    return doc;
  }

  // Lets files be dropped anywhere on the page: `zone` is lit (class "dropping")
  // while files are dragged over the page, and onFiles gets the dropped files as
  // an array. Catching every drop also keeps the browser from opening a file in
  // Luma's place. Other drags (text, links) are left alone.
  function dropZone(zone, onFiles) {
    let depth = 0;  // dragenter and dragleave fire for every element crossed
    const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
    const light = (on) => zone.classList.toggle("dropping", on);
    document.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      light(true);
    });
    document.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      light(true);
    });
    document.addEventListener("dragleave", (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) light(false);
    });
    document.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      light(false);
      const files = Array.from(event.dataTransfer.files || []);
      if (files.length) onFiles(files);
    });
  }

  // Runs worker(item) for every item, at most `limit` at a time; resolves when all
  // have settled (a worker reports its own failures).
  async function eachLimited(items, limit, worker) {
    const queue = Array.from(items);
    const lanes = Array.from({ length: Math.min(limit, queue.length) }, async () => {
      while (queue.length) {
        try { await worker(queue.shift()); } catch (_) { /* the worker has shown it */ }
      }
    });
    await Promise.all(lanes);
  }

  window.Luma.uploads = { upload, follow, isFinished, dropZone, eachLimited };
})();
