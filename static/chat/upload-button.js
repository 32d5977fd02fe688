// The chat's upload button, and files dropped onto the chat: each file becomes a
// document line among the messages that follows the upload (Luma.uploads) until
// Luma has read it. Only those who may upload have the button, and only they can
// drop files.
(function () {
  "use strict";
  const button = document.getElementById("upload"), picker = document.getElementById("upload-input");
  if (!button || !picker) return;
  const { upload, follow, isFinished, dropZone } = window.Luma.uploads;
  const { addMessage, save, showBanner } = window.Luma.chat;

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

  async function send(file) {
    const li = addMessage({ role: "document", content: `📄 ${file.name}: uploading… 0%` });
    const show = (doc) => setLine(li, describe(doc), doc.status === "failed");
    let answer;
    try {
      answer = await upload(file, { onProgress: (percent) => setLine(li, `📄 ${file.name}: uploading… ${percent}%`) });
    } catch (error) {
      setLine(li, `📄 ${file.name}: upload failed: ${error.message}`, true);
      showBanner(`Upload of ${file.name} failed: ${error.message}`, false);
      save();
      return;
    }
    show(answer.document);
    save();
    if (isFinished(answer.document)) return;  // uploaded before, and read already
    try {
      await follow(answer.document.id, { onStatus: show });
    } catch (error) {
      setLine(li, `📄 ${file.name}: could not read its status (${error.message})`, true);
    }
    save();
  }

  button.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    for (const file of picker.files) send(file);
    picker.value = "";
  });
  dropZone(document.querySelector("section.chat"), (files) => { for (const file of files) send(file); });
})();
