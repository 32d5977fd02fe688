// Copying from the chat: a message's text, or one code block of a reply (a "Copy"
// button on each <pre>). The Clipboard API exists only in a secure context (https or
// localhost); a Luma opened over plain http on a LAN address copies through a hidden
// text area instead, which browsers still allow in answer to a click.
(function () {
  "use strict";
  const { el } = window.Luma;

  function copyByTextArea(text) {
    const area = el("textarea", { readonly: true, "aria-hidden": "true", class: "copy-buffer" });
    area.value = text;
    document.body.append(area);
    area.select();
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (_) { copied = false; }
    area.remove();
    return copied;
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return true; } catch (_) { /* below */ }
    }
    return copyByTextArea(text);
  }

  // Press feedback on the button itself ("Copied" / "Copy failed"), then its label
  // again. The label is the button's data-label, drawn by CSS (chat.css): buttons
  // inside a message add no words to the message's text.
  async function copyFrom(button, text) {
    const label = button.dataset.idle || button.dataset.label;
    button.dataset.idle = label;
    const copied = await copyText(text);
    button.dataset.label = copied ? "Copied" : "Copy failed";
    setTimeout(() => { button.dataset.label = label; }, 1500);
  }

  // A Copy button on every code block under `root` that has none yet.
  function addCodeCopyButtons(root) {
    for (const pre of root.querySelectorAll("pre")) {
      if (pre.querySelector(":scope > .copy-code")) continue;
      const button = el("button", {
        type: "button", class: "small copy-code drawn-label", "aria-label": "Copy code", dataset: { label: "Copy" },
      });
      button.addEventListener("click", () => {
        const code = pre.querySelector("code");
        copyFrom(button, (code || pre).textContent);
      });
      pre.prepend(button);
    }
  }

  Object.assign(window.Luma, { copyText, copyFrom, addCodeCopyButtons });
})();
