// The memory panel: ranked search as you type, filters, inline edit, delete
// with confirmation, and the review of pending suggestions (one by one through
// Luma.suggestions' cards, or in bulk). Everything goes through the memory API
// (/api/memory).
(function () {
  "use strict";
  const { api, el, debounce } = window.Luma;
  const suggestions = window.Luma.suggestions;
  const { parseTags } = suggestions;
  const $ = (id) => document.getElementById(id);
  const PAGE = 20;
  let offset = 0, total = 0, searchSeq = 0;

  const SOURCE_LABELS = { manual: "added by hand", ai_suggested: "AI suggestion", document: "document" };

  function showError(node, message) {
    node.textContent = message;
    node.hidden = !message;
  }

  function metaLine(m, score) {
    const parts = [
      el("span", { class: "badge" + (m.status === "pending" ? " pending" : ""), text: m.status }),
      el("span", { text: SOURCE_LABELS[m.source] || m.source }),
      el("span", { class: "importance", text: `importance ${m.importance}` }),
      el("span", { text: m.subject === "everyone" ? "about everyone" : `about ${m.subject_name || m.subject}` }),
    ];
    if (m.tags && m.tags.length) parts.push(el("span", { class: "tags", text: "#" + m.tags.join(" #") }));
    if (m.use_count) parts.push(el("span", { text: `used ${m.use_count}×` }));
    if (score) parts.push(el("span", { class: "score", text: `score ${score.toFixed(3)}` }));
    return el("div", { class: "meta-line" }, ...parts);
  }

  // One memory with its actions: edit in place, delete after a confirmation.
  function card(m, { score = 0, onGone = () => {} } = {}) {
    const li = el("li", { class: "memory" + (m.status === "pending" ? " pending" : ""), dataset: { id: m.id } });
    const content = el("p", { class: "content", text: m.content });
    const error = el("p", { class: "field-error", role: "alert", hidden: true });
    const actions = el("div", { class: "row actions-row" });
    const gone = () => { li.remove(); onGone(); };
    const call = async (fn) => {
      showError(error, "");
      try { await fn(); } catch (e) { showError(error, e.message); }
    };

    const edit = () => suggestions.openEditor(m, {
      content, actions, textLabel: "Memory text", tagsPlaceholder: "comma, separated", saveText: "Save",
      onSave: (edits, close) => call(async () => {
        m = await api(`/api/memory/${m.id}`, { method: "PUT", body: edits });
        content.textContent = m.content;
        li.querySelector(".meta-line").replaceWith(metaLine(m, score));
        close();
      }),
    });

    function confirmDelete() {
      const yes = el("button", { type: "button", class: "small danger", text: "Yes, delete" });
      const no = el("button", { type: "button", class: "small", text: "Keep it" });
      const ask = el("div", { class: "row confirm", role: "group" }, el("span", { text: "Delete this memory for good?" }), yes, no);
      yes.addEventListener("click", () => call(async () => { await api(`/api/memory/${m.id}`, { method: "DELETE" }); gone(); }));
      no.addEventListener("click", () => { ask.replaceWith(actions); });
      actions.replaceWith(ask);
      no.focus();
    }

    actions.append(
      el("button", { type: "button", class: "small", text: "Edit", onclick: edit }),
      el("button", { type: "button", class: "small danger", text: "Delete", onclick: confirmDelete }));
    li.append(content, metaLine(m, score), actions, error);
    return li;
  }

  // ---- search --------------------------------------------------------------

  function searchParams() {
    const params = new URLSearchParams({ q: $("q").value.trim(), offset, limit: PAGE });
    if ($("f-source").value) params.set("source", $("f-source").value);
    if ($("f-status").value) params.set("status", $("f-status").value);
    if ($("f-importance").value) params.set("importance_min", $("f-importance").value);
    for (const tag of parseTags($("f-tags").value)) params.append("tags", tag);
    return params;
  }

  async function search() {
    const seq = ++searchSeq;
    let page;
    try {
      page = await api("/api/memory/search?" + searchParams());
    } catch (e) {
      if (seq === searchSeq) showError($("memories-error"), `Search failed: ${e.message}`);
      return;
    }
    if (seq !== searchSeq) return; // a newer search already answered
    showError($("memories-error"), "");
    total = page.count;
    // A card someone is editing or deleting stays as it is when it is still in the results.
    const busyCards = new Map([...$("memory-list").querySelectorAll(".memory")]
      .filter((li) => li.querySelector(".edit, .confirm")).map((li) => [li.dataset.id, li]));
    $("memory-list").replaceChildren(...page.items.map((item) => busyCards.get(String(item.memory.id)) || card(item.memory, {
      score: $("q").value.trim() ? item.score : 0,
      onGone: () => { total -= 1; summarise(page.items.length - 1); },
    })));
    summarise(page.items.length);
  }

  function summarise(shown) {
    $("result-summary").textContent = total ? `${total} memor${total === 1 ? "y" : "ies"}${$("q").value.trim() ? " match, best first" : ", most important first"}` : "No memories match.";
    $("page-label").textContent = total ? `${offset + 1}–${offset + Math.max(shown, 0)} of ${total}` : "";
    $("prev").disabled = offset === 0;
    $("next").disabled = offset + PAGE >= total;
  }

  const searchSoon = debounce(() => { offset = 0; search(); }, 200);

  // ---- suggestions ---------------------------------------------------------

  function countSuggestions() {
    const n = $("suggestion-list").children.length;
    $("suggestion-count").textContent = n;
    $("no-suggestions").hidden = n > 0;
    const picked = $("suggestion-list").querySelectorAll(".pick:checked").length;
    $("bulk-approve").disabled = $("bulk-reject").disabled = picked === 0;
    $("select-all-suggestions").checked = n > 0 && picked === n;
  }

  async function loadSuggestions() {
    try {
      const items = await api("/api/memory/suggestions");
      showError($("suggestions-error"), "");
      $("suggestion-list").replaceChildren(...items.map((m) => suggestions.card(m, {
        look: "list", details: metaLine(m), pickable: true, onGone: () => { countSuggestions(); search(); },
      })));
    } catch (e) {
      showError($("suggestions-error"), `Could not load suggestions: ${e.message}`);
    }
    countSuggestions();
  }

  async function bulk(kind) {
    const ids = [...$("suggestion-list").querySelectorAll(".pick:checked")].map((box) => Number(box.dataset.id));
    const failures = [];
    for (const id of ids) {
      try {
        await (kind === "approve" ? suggestions.approve(id) : suggestions.reject(id));
      } catch (e) { failures.push(`#${id}: ${e.message}`); }
    }
    showError($("suggestions-error"), failures.length ? `Some were not ${kind}d: ${failures.join("; ")}` : "");
    await loadSuggestions();
    search();
  }

  // ---- adding --------------------------------------------------------------

  function toggleAdd(open) {
    $("add-form").hidden = !open;
    $("add-toggle").setAttribute("aria-expanded", String(open));
    if (open) $("add-content").focus();
  }

  $("add-toggle").addEventListener("click", () => toggleAdd($("add-form").hidden));
  $("add-cancel").addEventListener("click", () => toggleAdd(false));
  $("add-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("/api/memory", { method: "POST", body: {
        content: $("add-content").value.trim(), importance: Number($("add-importance").value),
        tags: parseTags($("add-tags").value), subject: $("add-subject").value,
      } });
    } catch (error) { showError($("add-error"), error.message); return; }
    showError($("add-error"), "");
    $("add-form").reset();
    toggleAdd(false);
    offset = 0;
    search();
  });

  $("filters").addEventListener("submit", (e) => { e.preventDefault(); searchSoon(); });
  $("filters").addEventListener("input", searchSoon);
  $("filters").addEventListener("change", searchSoon);
  $("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); search(); });
  $("next").addEventListener("click", () => { offset += PAGE; search(); });
  $("suggestion-list").addEventListener("change", countSuggestions);
  $("select-all-suggestions").addEventListener("change", (e) => {
    for (const box of $("suggestion-list").querySelectorAll(".pick")) box.checked = e.target.checked;
    countSuggestions();
  });
  $("bulk-approve").addEventListener("click", () => bulk("approve"));
  $("bulk-reject").addEventListener("click", () => bulk("reject"));

  loadSuggestions();
  search();
})();
