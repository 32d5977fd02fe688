// The memory panel: ranked search as you type, filters, inline edit, delete
// with confirmation, and the review of pending suggestions (one by one through
// Luma.suggestions' cards, by keyboard, or in bulk with undo: Luma.review), and
// the auto-approved memories waiting for a look, by day. Everything goes through
// the memory API (/api/memory).
(function () {
  "use strict";
  const { api, el, debounce, aboutText, formatDateTime, timeElement } = window.Luma;
  const suggestions = window.Luma.suggestions;
  const review = window.Luma.review;
  const { parseTags } = suggestions;
  const $ = (id) => document.getElementById(id);
  const PAGE = 20;
  let offset = 0, total = 0, searchSeq = 0;
  let searchedFor = null;  // the query and filters of the last search (searchKey)
  // Memories saved here, as the server answered the save: a search answered before the
  // save (still on its way meanwhile) shows these instead of what it read then.
  const saved = new Map();
  const newest = (m) => {
    const mine = saved.get(m.id);
    return mine && mine.updated_at >= m.updated_at ? mine : m;
  };

  const SOURCE_LABELS = { manual: "added by hand", ai_suggested: "AI suggestion", document: "document", card: "character card" };

  function showError(node, message) {
    node.textContent = message;
    node.hidden = !message;
  }

  function metaLine(m, score) {
    const parts = [
      el("span", { class: "badge" + (m.status === "pending" ? " pending" : ""), text: m.status }),
      el("span", { text: SOURCE_LABELS[m.source] || m.source }),
      el("span", { class: "importance", text: `importance ${m.importance}` }),
      el("span", { class: "about", text: aboutText(m) }),
    ];
    if (m.tags && m.tags.length) parts.push(el("span", { class: "tags", text: "#" + m.tags.join(" #") }));
    if (m.auto_approved_at) parts.push(el("span", { class: "badge auto", title: `Auto-approved ${formatDateTime(m.auto_approved_at)}; no person has looked at it yet`, text: "auto-approved" }));
    if (m.confidence !== null && m.confidence !== undefined) parts.push(el("span", { text: `model ${Math.round(m.confidence * 100)}% sure` }));
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
        saved.set(m.id, m);
        content.textContent = m.content;
        li.querySelector(".meta-line").replaceWith(metaLine(m, score));
        close();
      }),
    });

    function confirmDelete() {
      const yes = el("button", { type: "button", class: "small danger", text: "Yes, delete" });
      const no = el("button", { type: "button", class: "small", text: "Keep it" });
      const ask = el("div", { class: "row confirm", role: "group" }, el("span", { text: "Delete this memory? You can restore it from Recently deleted for 30 days." }), yes, no);
      yes.addEventListener("click", () => call(async () => { await api(`/api/memory/${m.id}`, { method: "DELETE" }); gone(); }));
      no.addEventListener("click", () => { ask.replaceWith(actions); });
      actions.replaceWith(ask);
      no.focus();
    }

    actions.append(
      el("button", { type: "button", class: "small", text: "Edit", onclick: edit }),
      el("button", { type: "button", class: "small danger", text: "Delete", onclick: confirmDelete }));
    if (m.auto_approved_at && m.status === "approved") {
      // Auto-approved, waiting for a look: keep it, or send it back to the queue.
      actions.prepend(
        el("button", { type: "button", class: "small primary", text: "Keep", onclick: () => call(async () => {
          await review.decide({ ids: [m.id], decision: "approve" });
          search(); loadAutoApproved();
        }) }),
        el("button", { type: "button", class: "small", text: "Back to review", onclick: () => call(async () => {
          await review.undo([m.id]);
          review.announce("Back to pending suggestions.");
          loadAutoApproved();
        }) }));
    }
    li.append(content, metaLine(m, score), actions, error);
    window.Luma.memoryHistory.decorate(li, m);  // history, restore, "was: …"
    return li;
  }

  // ---- search --------------------------------------------------------------

  function searchParams() {
    const params = new URLSearchParams({ q: $("q").value.trim(), offset, limit: PAGE });
    if ($("f-source").value) params.set("source", $("f-source").value);
    if ($("f-status").value === "auto") params.set("auto_approved", "true");
    else if ($("f-status").value) params.set("status", $("f-status").value);
    if ($("f-importance").value) params.set("importance_min", $("f-importance").value);
    for (const tag of parseTags($("f-tags").value)) params.append("tags", tag);
    return params;
  }

  // The query and filters, without the page: what a new search would ask for.
  function searchKey() {
    const params = searchParams();
    params.delete("offset");
    return params.toString();
  }

  async function search() {
    const seq = ++searchSeq;
    searchedFor = searchKey();
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
    $("memory-list").replaceChildren(...page.items.map((item) => busyCards.get(String(item.memory.id)) || card(newest(item.memory), {
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

  // Leaving the search box fires `change` with nothing changed: no new search then, so
  // an open History or an edit in the results stays open.
  const searchSoon = debounce(() => {
    if (searchKey() === searchedFor) return;
    offset = 0; search();
  }, 200);

  // ---- suggestions ---------------------------------------------------------

  function countSuggestions() {
    const cards = [...$("suggestion-list").children];
    const n = cards.reduce((sum, li) => sum + Number(li.dataset.size || 1), 0);
    $("suggestion-count").textContent = n;
    $("no-suggestions").hidden = n > 0;
    const picked = $("suggestion-list").querySelectorAll(".pick:checked").length;
    $("bulk-approve").disabled = $("bulk-reject").disabled = picked === 0;
    $("select-all-suggestions").checked = cards.length > 0 && picked === cards.length;
  }

  let shownSuggestions = new Set();  // ids of the suggestions on the page (group members too)

  async function loadSuggestions() {
    try {
      const items = await api("/api/memory/suggestions");
      shownSuggestions = new Set(items.map((m) => m.id));
      $("new-suggestions").hidden = true;
      showError($("suggestions-error"), "");
      $("suggestion-list").replaceChildren(...suggestions.groupsOf(items).map(({ lead, members }) => suggestions.card(lead, {
        look: "list", details: (m) => metaLine(m), members, pickable: true, onGone: () => { countSuggestions(); search(); },
      })));
      if (items.length < 200) review.setPendingCount(items.length);
    } catch (e) {
      showError($("suggestions-error"), `Could not load suggestions: ${e.message}`);
    }
    countSuggestions();
  }

  // One call for every selected card, all or nothing (a group keeps its chosen
  // wording); Undo (or u) takes it back.
  async function bulk(kind) {
    try {
      await review.decideSelected($("suggestion-list"), kind);
      showError($("suggestions-error"), "");
    } catch (e) {
      showError($("suggestions-error"), `Nothing was ${kind === "approve" ? "approved" : "rejected"}: ${e.message}`);
    }
    countSuggestions();
  }

  // Every 30 seconds while the tab is visible (as the chat's panel): the navigation's
  // count, and "N new suggestions — Show" when some arrived. The list itself is only
  // reloaded on Show, so a card being edited or holding the keys' focus stays put.
  async function checkForNewSuggestions() {
    if (document.hidden) return;
    suggestions.refreshDropNotices();
    let items;
    try { items = await api("/api/memory/suggestions"); } catch (_) { return; }
    if (items.length < 200) review.setPendingCount(items.length);
    const fresh = items.filter((m) => !shownSuggestions.has(m.id)).length;
    $("new-suggestions-text").textContent = `${fresh} new suggestion${fresh === 1 ? "" : "s"}`;
    $("new-suggestions").hidden = fresh === 0;
  }

  // ---- auto-approved memories, by day ------------------------------------------

  async function loadAutoApproved() {
    let days;
    try { days = await api("/api/memory/auto-approved"); } catch (e) { return; }
    const section = $("auto-approved-section");
    section.hidden = days.length === 0;
    const mayUndo = section.dataset.mayUndo === "true";
    $("auto-approved-days").replaceChildren(...days.map(({ day, count }) => {
      const when = window.Luma.formatDate(day);
      const show = el("button", { type: "button", class: "small", text: "Show them", onclick: () => {
        $("f-status").value = "auto"; offset = 0; search(); $("memories-heading").scrollIntoView();
      } });
      const undo = mayUndo ? el("button", { type: "button", class: "small danger", text: count === 1 ? "Send it back to review" : `Send all ${count} back to review`, onclick: () => undoDay(day, count, when) }) : null;
      return el("li", { class: "row" }, el("span", {}, timeElement(day, { format: "date" }), `: ${count} auto-approved, not looked at yet`), show, undo);
    }));
  }

  async function undoDay(day, count, when) {
    const what = count === 1 ? `the memory auto-approved on ${when}` : `all ${count} memories auto-approved on ${when}`;
    if (!window.confirm(`Send ${what} back to review? They stay unused until someone approves them again.`)) return;
    try {
      const answer = await api("/api/memory/auto-approved/undo", { method: "POST", body: { day } });
      review.setPendingCount(answer.pending_count);
      review.announce(`${answer.items.length} of ${when}'s auto-approvals are back to pending suggestions.`);
      showError($("auto-approved-error"), "");
    } catch (e) { showError($("auto-approved-error"), e.message); return; }
    loadAutoApproved(); loadSuggestions(); search();
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
  $("new-suggestions-show").addEventListener("click", loadSuggestions);
  setInterval(checkForNewSuggestions, 30000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) checkForNewSuggestions(); });

  // A version restored, a fact changed, a deleted memory back (memory_history.js);
  // a decision undone or made in bulk (review.js).
  document.addEventListener("luma:memories-changed", () => { loadSuggestions(); search(); });
  document.addEventListener("luma:suggestions-changed", () => { loadSuggestions(); search(); loadAutoApproved(); });

  review.keyboard($("suggestion-list"));
  $("review-keys").addEventListener("click", review.toggleHelp);
  loadSuggestions();
  search();
  loadAutoApproved();
})();
