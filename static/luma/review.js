// Review at volume, shared by the memory page and the chat's suggestion panel:
// decisions on one card or many in one call (POST /api/memory/suggestions/review),
// the undo of the last ones (POST /api/memory/suggestions/undo), a spoken line for
// each (aria-live), the navigation's pending count, and the keyboard over a list of
// Luma.suggestions cards (j/k or ↓/↑ move, a approve, e edit, r reject, x select,
// u undo, ? the keys). Keys are never taken while someone types in a field.
(function () {
  "use strict";
  const { api, el } = window.Luma;

  // ---- what is said, and the count in the navigation --------------------------------

  const live = el("div", { class: "visually-hidden", role: "status", "aria-live": "polite", id: "review-announcer" });
  document.body.append(live);

  function announce(text) {
    live.textContent = "";
    setTimeout(() => { live.textContent = text; }, 50);  // a new text is read even when it repeats
  }

  // Every badge showing the count: the navigation's, the phone menu's, the chat's
  // suggestions button.
  function setPendingCount(count) {
    if (typeof count !== "number") return;
    for (const badge of document.querySelectorAll("[data-pending-badge]")) {
      badge.querySelector("[data-count]").textContent = String(count);
      badge.hidden = count === 0;
    }
  }

  async function refreshPendingCount() {
    try { setPendingCount((await api("/api/memory/suggestions/count")).pending); } catch (_) { /* the badge waits */ }
  }

  // ---- decisions and their undo ---------------------------------------------------------

  const history = [];  // the decisions that may be undone, last one last: {ids, text}
  const toastText = el("span");
  const toastUndo = el("button", { type: "button", class: "small", text: "Undo" });
  const toast = el("div", { class: "review-toast", role: "group", "aria-label": "Last review decision", hidden: true }, toastText, toastUndo);
  document.body.append(toast);
  let toastTimer = null;
  toastUndo.addEventListener("click", () => undoLast());

  function showToast(text, undoable) {
    toastText.textContent = text;
    toastUndo.hidden = !undoable;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 12000);
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  function describe(answer) {
    if (answer.decision === "reject") return `Rejected ${plural(answer.rejected.length, "suggestion")}.`;
    const duplicates = answer.rejected.length ? ` and rejected ${plural(answer.rejected.length, "duplicate")}` : "";
    return `Approved ${plural(answer.approved.length, "suggestion")}${duplicates}.`;
  }

  const changed = () => document.dispatchEvent(new CustomEvent("luma:suggestions-changed"));

  // request: {ids, decision, duplicates?: [{of, ids}], content?, importance?, tags?}. Throws an ApiError
  // (nothing was decided) for the caller to show by the card.
  async function decide(request) {
    const answer = await api("/api/memory/suggestions/review", { method: "POST", body: request });
    const text = describe(answer);
    history.push({ ids: answer.undo_ids, text });
    setPendingCount(answer.pending_count);
    showToast(text, true);
    announce(`${text} Press u to undo.`);
    return answer;
  }

  async function undo(ids) {
    const answer = await api("/api/memory/suggestions/undo", { method: "POST", body: { ids } });
    setPendingCount(answer.pending_count);
    changed();
    return answer;
  }

  // bringBack: the keys' list puts its focus on the card brought back (the u key).
  async function undoLast({ bringBack = false } = {}) {
    const last = history.pop();
    if (!last) { announce("Nothing to undo."); return; }
    if (bringBack && active) active.focusWhenBack(last.ids);
    try {
      const answer = await undo(last.ids);
      const text = `Undone: ${plural(answer.items.length, "suggestion")} back to pending.`;
      showToast(text, history.length > 0);
      announce(text);
    } catch (e) {
      showToast(`Could not undo: ${e.message}`, false);
      announce(`Could not undo: ${e.message}`);
    }
  }

  // The selected cards of a list (their .pick boxes), decided in one call; they leave
  // the list when it succeeds. Returns the answer, or null when none is selected.
  async function decideSelected(list, decision) {
    const cards = [...list.querySelectorAll(".pick:checked")].map((box) => box.closest("li[data-id]")).filter(Boolean);
    if (!cards.length) return null;
    const editing = cards.filter((card) => card.isEditing?.());
    if (decision === "approve" && editing.length && cards.length > 1) {
      // One call approves one edited wording at most: nothing is decided rather than
      // an edit approved as it was before.
      throw new window.Luma.ApiError("a selected suggestion is being edited: save or cancel its edit first.", 0);
    }
    const request = { decision, ids: [], duplicates: [] };
    for (const card of cards) {
      const { ids, duplicates, ...edits } = card.reviewRequest(decision);
      request.ids.push(...ids);
      request.duplicates.push(...duplicates);
      if (cards.length === 1) Object.assign(request, edits);  // an open edit's wording
    }
    const answer = await decide(request);
    cards.forEach((card) => card.remove());
    changed();
    return answer;
  }

  // ---- the keyboard ---------------------------------------------------------------------------

  const KEYS = [
    ["j or ↓", "next suggestion"], ["k or ↑", "previous suggestion"], ["a", "approve (the selected ones, when some are)"],
    ["e", "edit, then Enter saves and approves, Esc cancels"], ["r", "reject (the selected ones, when some are)"],
    ["x", "select for a bulk decision"], ["u", "undo the last decision"], ["?", "show or hide these keys"],
  ];
  let help = null;

  function toggleHelp() {
    if (!help) {
      const close = el("button", { type: "button", class: "small", text: "Close" });
      help = el("dialog", { class: "review-help", "aria-labelledby": "review-help-title" },
        el("h2", { id: "review-help-title", text: "Reviewing with the keyboard" }),
        el("dl", {}, ...KEYS.flatMap(([key, what]) => [el("dt", {}, el("kbd", { text: key })), el("dd", { text: what })])),
        el("p", { class: "muted", text: "Keys work whenever you are not typing in a field (press Tab or click the list first)." }),
        close);
      close.addEventListener("click", () => help.close());
      document.body.append(help);
    }
    if (help.open) help.close(); else help.showModal();
  }

  function isTyping(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable || target.matches("textarea, select")) return true;
    return target.matches("input") && !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
  }

  let active = null;  // the list the keys act on (each page has one)

  // Makes a list of suggestion cards (items with data-id, each with buttons marked
  // data-action="approve|edit|reject" and, for bulk, a .pick box) reviewable by key.
  function keyboard(list) {
    let current = null, index = 0;
    const cards = () => [...list.children].filter((li) => li.dataset.id && !li.hidden);

    function focus(card, { moveFocus = true } = {}) {
      list.querySelectorAll(".review-focus").forEach((c) => { c.classList.remove("review-focus"); c.removeAttribute("aria-current"); });
      current = card || null;
      if (!current) return;
      index = cards().indexOf(current);
      current.classList.add("review-focus");
      current.setAttribute("aria-current", "true");
      current.tabIndex = -1;
      if (moveFocus) current.focus({ preventScroll: true });
      current.scrollIntoView({ block: "nearest" });
    }

    function move(step) {
      const all = cards();
      if (!all.length) { announce("No suggestions waiting."); return; }
      const at = current && current.isConnected ? all.indexOf(current) : -1;
      focus(all[at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step))]);
      announce(current.querySelector("[data-review-text]")?.textContent || "");
    }

    async function act(action) {
      const picked = list.querySelector(".pick:checked");
      if (picked && (action === "approve" || action === "reject")) {
        try { await decideSelected(list, action); } catch (e) { announce(`Nothing was decided: ${e.message}`); }
        return;
      }
      if (!current || !current.isConnected) move(1);
      // Approving a card being edited approves what its form says (Save & approve).
      const saving = action === "approve" && current && current.querySelector('.edit [data-action="save"]');
      if (saving) { saving.click(); return; }
      const button = current && current.querySelector(`[data-action="${action}"]`);
      if (button && !button.closest("[hidden]")) button.click();
    }

    function select() {
      if (!current || !current.isConnected) move(1);
      const box = current && current.querySelector(".pick");
      if (!box) return;
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
      const n = list.querySelectorAll(".pick:checked").length;
      announce(`${box.checked ? "Selected" : "Unselected"}; ${n} selected.`);
    }

    // Cards an undo brings back (focusWhenBack): the first of them to appear in the
    // list takes the focus, once, within a few seconds.
    let wanted = null, wantedUntil = 0;
    function focusWhenBack(ids) {
      wanted = new Set(ids.map(String));
      wantedUntil = Date.now() + 5000;
      focusBroughtBack();
    }
    function focusBroughtBack() {
      if (!wanted || Date.now() > wantedUntil) { wanted = null; return false; }
      const back = cards().find((li) => wanted.has(li.dataset.id));
      if (!back) return false;
      wanted = null;
      focus(back);
      return true;
    }

    // A decided card leaves: the next one takes the focus. A reloaded list keeps it.
    new MutationObserver(() => {
      if (focusBroughtBack()) return;
      if (!current || current.isConnected) return;
      const sameOne = list.querySelector(`[data-id="${current.dataset.id}"]`);
      const wasHere = document.activeElement === document.body || list.contains(document.activeElement);
      const all = cards();
      focus(sameOne || all[Math.min(index, all.length - 1)], { moveFocus: wasHere });
    }).observe(list, { childList: true });
    list.addEventListener("click", (e) => {
      const card = e.target.closest("li[data-id]");
      if (card && card.parentElement === list) focus(card, { moveFocus: false });
    });

    const controller = { list, move, act, select, focusWhenBack };
    active = controller;
    return controller;
  }

  document.addEventListener("keydown", (e) => {
    if (!active || !active.list.isConnected || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || isTyping(e.target)) return;
    if (help && help.open && e.key !== "?") return;  // the dialog handles Esc itself
    const inList = active.list.contains(document.activeElement);
    const actions = {
      j: () => active.move(1), k: () => active.move(-1),
      a: () => active.act("approve"), e: () => active.act("edit"), r: () => active.act("reject"),
      x: () => active.select(), u: () => undoLast({ bringBack: true }), "?": toggleHelp,
    };
    if (inList) Object.assign(actions, { ArrowDown: actions.j, ArrowUp: actions.k });
    const run = actions[e.key];
    if (!run) return;
    if (e.target instanceof Element && e.target.matches("button") && e.key === "Enter") return;
    e.preventDefault();
    run();
  });

  window.Luma.review = { decide, decideSelected, undo, undoLast, announce, keyboard, toggleHelp, setPendingCount, refreshPendingCount };
})();
