// A memory's history on the memory panel: what each version said, who changed it,
// when and from where, and one click to restore an earlier version
// (GET /api/memory/{id}/history, POST /api/memory/{id}/restore {version}).
// Also "The fact changed" (PUT /api/memory/{id} {content, supersede: true}: the
// old memory stays as a past fact, shown as "was: …" under the new one), rejected
// suggestions back to pending, and the memories deleted in the last 30 days
// (GET /api/memory/deleted), each restorable. After any change it fires
// `luma:memories-changed` on the document, which the panel answers by searching again.
(function () {
  "use strict";
  const { api, el, timeElement } = window.Luma;

  const SURFACES = { web: "web page", api: "API", admin: "admin", discord: "Discord", import: "import", ai: "AI", system: "Luma" };
  const changed = () => document.dispatchEvent(new CustomEvent("luma:memories-changed"));

  function showError(node, error) {
    node.textContent = error ? error.message || String(error) : "";
    node.hidden = !error;
  }

  // One version: "v3 edited by mod · web page · 30/11/2026, 15:02" and what it said.
  function versionItem(memoryId, v, { newest, onRestored, error }) {
    const who = v.who ? ` by ${v.who}` : "";
    const head = el("div", { class: "meta-line" },
      el("span", { class: "version-number", text: `v${v.number}` }),
      el("span", { class: "badge", text: v.action }),
      el("span", { text: `${who.trim() || "by Luma"} · ${SURFACES[v.surface] || v.surface}` }),
      timeElement(v.at),
      v.changed.length ? el("span", { class: "muted", text: `changed: ${v.changed.join(", ")}` }) : null);
    const f = v.fields;
    const body = el("p", { class: "version-text", text: f.content });
    const facts = el("div", { class: "meta-line muted" },
      el("span", { text: f.status }), el("span", { text: `importance ${f.importance}` }),
      f.tags.length ? el("span", { text: "#" + f.tags.join(" #") }) : null);
    const li = el("li", { class: "version", dataset: { version: v.version } }, head, body, facts);
    if (!newest && v.action !== "deleted") {
      li.append(el("button", {
        type: "button", class: "small", text: "Restore this version",
        onclick: async () => {
          showError(error, null);
          try { await api(`/api/memory/${memoryId}/restore`, { method: "POST", body: { version: v.version } }); }
          catch (e) { showError(error, e); return; }
          onRestored();
        },
      }));
    }
    return li;
  }

  // The history panel under a card, loaded when opened.
  function historyPanel(memoryId) {
    const list = el("ol", { class: "memory-list history-list", "aria-label": "Versions, newest first" });
    const error = el("p", { class: "field-error", role: "alert", hidden: true });
    const node = el("div", { class: "history", hidden: true },
      el("h3", { class: "small-text", text: "History (newest first)" }), list, error);
    async function load() {
      showError(error, null);
      let versions;
      try { versions = await api(`/api/memory/${memoryId}/history`); }
      catch (e) { showError(error, e); return; }
      list.replaceChildren(...versions.map((v, i) => versionItem(memoryId, v, {
        newest: i === 0, error, onRestored: () => { load(); changed(); },
      })));
    }
    return { node, load };
  }

  // "The fact changed": what is true now becomes a new memory superseding this one.
  function changeForm(m, actions) {
    const text = el("textarea", { rows: 2, "aria-label": "What is true now", placeholder: "What is true now?" });
    const error = el("p", { class: "field-error", role: "alert", hidden: true });
    const save = el("button", { type: "button", class: "small primary", text: "Save the new fact" });
    const cancel = el("button", { type: "button", class: "small", text: "Cancel" });
    const form = el("div", { class: "edit supersede" },
      el("p", { class: "small-text muted", text: "The old text stays as a past fact (shown as “was: …”)." }),
      text, el("div", { class: "row" }, save, cancel), error);
    const close = () => { form.remove(); actions.hidden = false; };
    save.addEventListener("click", async () => {
      showError(error, null);
      try { await api(`/api/memory/${m.id}`, { method: "PUT", body: { content: text.value.trim(), supersede: true } }); }
      catch (e) { showError(error, e); return; }
      close();
      changed();
    });
    cancel.addEventListener("click", close);
    actions.hidden = true;
    actions.after(form);
    text.focus();
  }

  // Adds to a memory card (li, from the memory panel) the "was: …" line, the past
  // fact's mark, and the History, "The fact changed" and "Back to pending" buttons.
  function decorate(li, m) {
    const content = li.querySelector(":scope > .content");
    const actions = li.querySelector(".actions-row");
    if (m.was && content) content.after(el("p", { class: "was muted small-text", text: `was: ${m.was}` }));
    if (m.valid_until && content) {
      content.after(el("p", { class: "past muted small-text" }, "No longer true since ", timeElement(m.valid_until), "."));
    }
    if (!actions) return;
    const panel = historyPanel(m.id);
    const toggle = el("button", { type: "button", class: "small", text: "History", "aria-expanded": "false" });
    toggle.addEventListener("click", () => {
      const open = panel.node.hidden;
      panel.node.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) panel.load();
    });
    actions.append(toggle);
    if (m.status === "approved" && !m.valid_until) {
      actions.append(el("button", { type: "button", class: "small", text: "The fact changed", onclick: () => changeForm(m, actions) }));
    }
    if (m.status === "rejected") {
      const error = el("p", { class: "field-error", role: "alert", hidden: true });
      actions.append(el("button", {
        type: "button", class: "small", text: "Back to pending",
        onclick: async () => {
          try { await api(`/api/memory/${m.id}/restore`, { method: "POST", body: {} }); }
          catch (e) { showError(error, e); return; }
          changed();
        },
      }));
      li.append(error);
    }
    li.append(panel.node);
  }

  // The "Recently deleted" section of the memory page, loaded when opened.
  function deletedSection(section) {
    const list = section.querySelector("[data-deleted-list]");
    const empty = section.querySelector("[data-deleted-empty]");
    const error = section.querySelector("[data-deleted-error]");
    async function load() {
      showError(error, null);
      let items;
      try { items = await api("/api/memory/deleted"); }
      catch (e) { showError(error, e); return; }
      empty.hidden = items.length > 0;
      list.replaceChildren(...items.map((d) => {
        const li = el("li", { class: "memory deleted", dataset: { id: d.id } },
          el("p", { class: "content", text: d.fields.content }),
          el("div", { class: "meta-line muted" },
            el("span", { text: `deleted${d.who ? " by " + d.who : ""} · ${SURFACES[d.surface] || d.surface}` }),
            timeElement(d.deleted_at),
            el("span", {}, "restorable until ", timeElement(d.restorable_until))));
        li.append(el("div", { class: "row actions-row" }, el("button", {
          type: "button", class: "small primary", text: "Restore",
          onclick: async () => {
            showError(error, null);
            try { await api(`/api/memory/${d.id}/restore`, { method: "POST", body: {} }); }
            catch (e) { showError(error, e); return; }
            li.remove();
            empty.hidden = list.children.length > 0;
            changed();
          },
        })));
        return li;
      }));
    }
    section.addEventListener("toggle", () => { if (section.open) load(); });
    document.addEventListener("luma:memories-changed", () => { if (section.open) load(); });
    return { load };
  }

  const section = document.getElementById("deleted-section");
  if (section) deletedSection(section);

  window.Luma.memoryHistory = { decorate };
})();
