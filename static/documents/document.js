// One document's page: delete a chunk (its memory) and read the document again,
// both through the documents API and with confirmation; while Luma reads it, the
// status is followed (Luma.uploads.follow) and the page reloads once it is done.
// Text from the server is only ever set with textContent.
(function () {
  "use strict";
  const { api } = window.Luma;
  const { follow, isFinished } = window.Luma.uploads;
  const facts = document.getElementById("document");
  const id = Number(facts.dataset.id);
  const status = document.getElementById("document-status");
  const count = document.getElementById("chunk-count");
  const message = document.getElementById("document-message");
  const body = document.getElementById("chunks-body");
  const reingest = document.getElementById("reingest-form");
  const STATUSES = { queued: "Queued", processing: "Processing", done: "Done", failed: "Failed" };

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
  }

  function showStatus(doc) {
    status.className = "status status-" + doc.status;
    status.textContent = STATUSES[doc.status] || doc.status;
    if (doc.status === "processing") status.append(" " + doc.progress + "%");
    count.textContent = doc.chunk_count;
  }

  // Follows the document until Luma has read it, then shows the page anew.
  async function followUntilRead() {
    try {
      const doc = await follow(id, { onStatus: showStatus });
      if (doc && isFinished(doc)) location.reload();
    } catch (error) {
      say("Could not follow the reading: " + error.message, true);
    }
  }

  if (body) body.addEventListener("click", async (event) => {
    const button = event.target.closest("button.delete-chunk");
    if (!button) return;
    const row = button.closest("tr");
    const place = row.querySelector(".place").textContent.trim();
    if (!confirm(`Delete this chunk${place ? ` (${place})` : ""}? Luma forgets what it says.`)) return;
    button.disabled = true;
    try {
      await api(`/api/documents/${id}/chunks/${row.dataset.id}`, { method: "DELETE" });
    } catch (error) {
      button.disabled = false;
      say(error.message, true);
      return;
    }
    row.remove();
    count.textContent = Math.max(0, Number(count.textContent) - 1);
    say(`Deleted the chunk from ${place}.`);
  });

  if (reingest) reingest.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("reingest");
    if (!confirm(`Read ${button.dataset.name} again? Luma forgets its ${count.textContent} chunk(s) and reads it anew.`)) return;
    // Only a workbook has the choice; no body otherwise (the server answers an empty
    // multipart body with a bare 400).
    const hidden = document.getElementById("reingest-hidden");
    const options = { method: "POST" };
    if (hidden) {
      options.body = new FormData();
      options.body.append("include_hidden_sheets", hidden.checked ? "true" : "false");
    }
    button.disabled = true;
    let doc;
    try {
      doc = await api(`/api/documents/${id}/reingest`, options);
    } catch (error) {
      button.disabled = false;
      say(error.message, true);
      return;
    }
    body?.closest("table").remove();
    showStatus(doc);
    say(`Luma is reading ${doc.name} again.`);
    if (isFinished(doc)) location.reload();
    else followUntilRead();
  });

  if (!isFinished(facts.dataset)) followUntilRead();
})();
