// The chat's upload button, and files dropped onto the chat: each file becomes a
// document line among the messages that follows the upload (Luma.uploads) until
// Luma has read it. Only those who may upload have the button, and only they can
// drop files.
//
// The server keeps documents, not these lines, so the chat remembers in this
// browser which document was uploaded where (its conversation, and the message it
// came after); whenever the chat shows a conversation again (a reload, another
// device's update), the lines come back with the document's status as the server
// tells it now (GET /api/documents/{id}); a deleted document's line goes.
(function () {
  "use strict";
  const button = document.getElementById("upload"), picker = document.getElementById("upload-input");
  const list = document.getElementById("messages");
  if (!list) return;
  const { api } = window.Luma;
  const { upload, follow, isFinished, dropZone } = window.Luma.uploads;
  const chat = window.Luma.chat;
  const { addMessage, save, showBanner } = chat;
  const STORE_KEY = "luma.chat.uploads." + JSON.parse(document.getElementById("user-id").textContent);
  const STORE_MAX = 100;
  const following = new Set();  // document ids being followed on this page

  function describe(doc) {
    let text = `📄 ${doc.name}: ${doc.status}`;
    if (doc.status === "processing") text += ` (${doc.progress}%)`;
    if (doc.chunk_count) text += ` · ${doc.chunk_count} chunks`;
    if (doc.error) text += ` · ${doc.error}`;
    return text;
  }

  function setLine(li, text, failed = false) {
    li.luma.content = text;
    li.luma.failed = failed;
    li.querySelector(".body").textContent = text;
    li.classList.toggle("failed", failed);
  }

  // ---- where each upload was: [{id, name, conversationId, after}] in this browser ----

  function records() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY) || "[]"); } catch (_) { return []; }
  }

  function store(items) {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(items.slice(-STORE_MAX))); } catch (_) { /* full: lines are not kept */ }
  }

  function remember(record) {
    store([...records().filter((r) => r.id !== record.id), record]);
  }

  const forget = (id) => store(records().filter((r) => r.id !== id));
  const lineOf = (id) => [...list.querySelectorAll(".message.document")].find((li) => li.luma && li.luma.documentId === id);
  const lastMessageId = () => {
    const shown = [...list.querySelectorAll(".message[data-id]")];
    return shown.length ? Number(shown[shown.length - 1].dataset.id) : null;
  };

  // A line uploaded in a new chat belongs to the conversation its first reply started.
  document.addEventListener("luma:reply", () => {
    const here = chat.conversation();
    if (here === null) return;
    const items = records();
    let changed = false;
    for (const record of items) {
      if (record.conversationId === null && lineOf(record.id)) { record.conversationId = here; changed = true; }
    }
    if (changed) store(items);
  });

  // ---- following a document's status ------------------------------------------------

  function show(li, doc) {
    setLine(li, describe(doc), doc.status === "failed");
  }

  async function followLine(id, li) {
    if (following.has(id)) return;
    following.add(id);
    try {
      await follow(id, { onStatus: (doc) => show(lineOf(id) || li, doc) });
    } catch (error) {
      if (error.status === 404) { (lineOf(id) || li).remove(); forget(id); }
      else setLine(lineOf(id) || li, `📄 ${li.luma.name || "document"}: could not read its status (${error.message})`, true);
    } finally {
      following.delete(id);
    }
    save();
  }

  // The line of an earlier upload, put back after the message it followed, with the
  // document as it is now.
  async function restore(record) {
    let li = lineOf(record.id);
    if (!li) {
      li = addMessage({ role: "document", content: `📄 ${record.name}`, documentId: record.id, name: record.name });
      let before = record.after === null ? null : list.querySelector(`.message[data-id="${record.after}"]`);
      if (record.after === null || before) {
        // after that message and any upload lines already after it
        let next = before ? before.nextElementSibling : list.firstElementChild;
        while (next && next !== li && next.classList.contains("document")) { before = next; next = next.nextElementSibling; }
        if (before) before.after(li); else list.prepend(li);
      }
    }
    let doc;
    try { doc = await api(`/api/documents/${record.id}`); }
    catch (error) {
      if (error.status === 404) { li.remove(); forget(record.id); save(); }
      return;
    }
    show(li, doc);
    save();
    if (!isFinished(doc)) followLine(record.id, li);
  }

  document.addEventListener("luma:rendered", () => {
    const here = chat.conversation();
    for (const record of records()) {
      if (record.conversationId === here && here !== null) restore(record);
      else if (record.conversationId === null && here === null && lineOf(record.id)) restore(record);
    }
  });

  // ---- uploading ----------------------------------------------------------------------

  async function send(file) {
    const after = lastMessageId();
    const li = addMessage({ role: "document", content: `📄 ${file.name}: uploading… 0%`, name: file.name });
    let answer;
    try {
      answer = await upload(file, { onProgress: (percent) => setLine(li, `📄 ${file.name}: uploading… ${percent}%`) });
    } catch (error) {
      setLine(li, `📄 ${file.name}: upload failed: ${error.message}`, true);
      showBanner(`Upload of ${file.name} failed: ${error.message}`, false);
      save();
      return;
    }
    const doc = answer.document;
    li.luma.documentId = doc.id;
    li.luma.name = doc.name;
    remember({ id: doc.id, name: doc.name, conversationId: chat.conversation(), after });
    show(li, doc);
    save();
    if (!isFinished(doc)) followLine(doc.id, li);  // else uploaded before, and read already
  }

  if (!button || !picker) return;
  button.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    for (const file of picker.files) send(file);
    picker.value = "";
  });
  dropZone(document.querySelector("section.chat"), (files) => { for (const file of files) send(file); });
})();
