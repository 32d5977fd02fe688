// A pending AI memory suggestion as a card with its review: approve, edit and
// approve, or reject, one suggestion or a group of near-duplicates at once
// (through Luma.review: POST /api/memory/suggestions/review, with its undo).
// Shared by the chat's side panel and
// the memory page, each in its own look; the memory page also edits its
// memories with the same form. Also the line telling moderators how many of
// the model's suggestions could not be understood lately (dropNotice).
(function () {
  "use strict";
  const { api, el } = window.Luma;

  const parseTags = (text) => text.split(",").map((t) => t.trim()).filter(Boolean);
  const approve = (id, edits = {}) => api("/api/memory/suggest", { method: "POST", body: { id, ...edits } });
  const reject = (id) => api(`/api/memory/${id}/reject`, { method: "POST" });

  // The class names and labels of each page's card.
  const LOOKS = {
    panel: {  // the chat's side panel
      item: "suggestion", content: "suggestion-content", actions: "row", error: "error",
      textLabel: "Suggestion text", tagsPlaceholder: "tags, comma separated",
    },
    list: {  // the memory page, among the memories
      item: "memory pending", content: "content", actions: "row actions-row", error: "field-error",
      textLabel: "Memory text", tagsPlaceholder: "comma, separated",
    },
  };

  // Swaps `content` for a form editing m's text, importance and tags (and hides
  // `actions`) until Cancel. onSave(edits, close) does the saving. In the form,
  // Enter saves (Shift+Enter is a new line) and Esc cancels. Returns the editor:
  // {edits(): what the form says now, save(), close()}; onClose is told when it closes.
  function openEditor(m, { content, actions, textLabel, tagsPlaceholder, saveText, onSave, onClose = () => {} }) {
    const text = el("textarea", { rows: 3, "aria-label": textLabel });
    text.value = m.content;
    const importance = el("input", { type: "number", min: 1, max: 10, value: m.importance, "aria-label": "Importance" });
    const tags = el("input", { type: "text", value: (m.tags || []).join(", "), "aria-label": "Tags", placeholder: tagsPlaceholder });
    const save = el("button", { type: "button", class: "small primary", text: saveText, "data-action": "save" });
    const cancel = el("button", { type: "button", class: "small", text: "Cancel" });
    const form = el("div", { class: "edit" }, text, el("div", { class: "row" }, importance, tags), el("div", { class: "row" }, save, cancel));
    const edits = () => ({ content: text.value.trim(), importance: Number(importance.value), tags: parseTags(tags.value) });
    const close = () => {
      const hadFocus = form.contains(document.activeElement);
      form.replaceWith(content);
      actions.hidden = false;
      onClose();
      if (hadFocus) content.closest("li[data-id]")?.focus({ preventScroll: true });
    };
    save.addEventListener("click", () => onSave(edits(), close));
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
      else if (e.key === "Enter" && !e.shiftKey && e.target.matches("textarea, input")) { e.preventDefault(); save.click(); }
    });
    content.replaceWith(form);
    actions.hidden = true;
    text.focus();
    return { edits, save: () => save.click(), close };
  }

  // The suggestions of GET /api/memory/suggestions as groups of near-duplicates, in
  // the list's order: [{lead, members}], members saying what their lead says.
  function groupsOf(items) {
    const groups = new Map();
    for (const item of items) {
      const id = item.group_id ?? item.id;
      if (!groups.has(id)) groups.set(id, { lead: item, members: [] });
      else groups.get(id).members.push(item);
    }
    return [...groups.values()];
  }

  // s: a pending memory from the API; members: suggestions saying the same thing (one
  // decision covers them all: approving keeps the chosen wording and rejects the
  // others as its duplicates). details(m): the line shown under a text. pickable: a
  // checkbox (class `pick`) for bulk review. onGone: called once the card left the
  // page, decided. Each decision goes through Luma.review (which offers its undo).
  function card(s, { look = "panel", details = null, pickable = false, onGone = () => {}, members = [] } = {}) {
    const names = LOOKS[look];
    const group = [s, ...members];
    let keep = s;  // the wording an approval keeps
    let editor = null;  // the open edit form: an approval then takes what it says
    const detailsOf = (m) => (typeof details === "function" ? details(m) : m === s ? details : null);
    const li = el("li", { class: names.item, dataset: { id: s.id, size: group.length } });
    const content = el("p", { class: names.content, text: s.content, "data-review-text": "" });
    const error = el("p", { class: names.error, role: "alert", hidden: true });
    li.reviewRequest = (decision) => (decision === "approve"
      ? { ids: [keep.id], duplicates: members.length ? [{ of: keep.id, ids: group.filter((m) => m !== keep).map((m) => m.id) }] : [], ...(editor ? editor.edits() : {}) }
      : { ids: group.map((m) => m.id), duplicates: [] });
    li.isEditing = () => editor !== null;
    const act = async (decision, edits = {}) => {
      error.hidden = true;
      try { await window.Luma.review.decide({ decision, ...li.reviewRequest(decision), ...edits }); }
      catch (e) { error.textContent = e.message; error.hidden = false; return; }
      li.remove();
      onGone();
    };
    const edit = () => {
      if (editor) return;
      editor = openEditor(keep, {
        content, actions, textLabel: names.textLabel, tagsPlaceholder: names.tagsPlaceholder,
        saveText: "Save & approve", onSave: (edits) => act("approve", edits), onClose: () => { editor = null; },
      });
    };
    const actions = el("div", { class: names.actions },
      el("button", { type: "button", class: "small primary", text: members.length ? `Approve (1 of ${group.length})` : "Approve", "data-action": "approve", onclick: () => act("approve") }),
      el("button", { type: "button", class: "small", text: "Edit", "data-action": "edit", onclick: edit }),
      el("button", { type: "button", class: "small danger", text: members.length ? `Reject all ${group.length}` : "Reject", "data-action": "reject", onclick: () => act("reject") }));
    const replaces = s.updates_id ? replacesLine(s) : null;
    const pick = pickable ? el("input", { type: "checkbox", class: "pick", "aria-label": "Select this suggestion", dataset: { id: s.id } }) : null;
    const head = pick ? el("div", { class: "pick-row" }, pick, content) : content;
    li.append(...[head, replaces, detailsOf(s), members.length ? duplicatesBox() : null, actions, error].filter(Boolean));
    return li;

    // "Said 2 more times in other words": the wordings to choose from, and a way out
    // when they are not the same after all.
    function duplicatesBox() {
      const name = `keep-${s.id}`;
      const choices = group.map((m) => {
        const radio = el("input", { type: "radio", name, value: m.id, checked: m === keep });
        radio.addEventListener("change", () => { editor?.close(); keep = m; content.textContent = m.content; });
        return el("li", {}, el("label", { class: "check" }, radio, ` ${m.content}`));
      });
      const split = el("button", { type: "button", class: "small link", text: "Decide them one by one" });
      split.addEventListener("click", () => {
        li.replaceWith(...group.map((m) => card(m, { look, details: typeof details === "function" ? details : detailsOf(m), pickable, onGone })));
      });
      return el("details", { class: "duplicates" },
        el("summary", { text: `Said ${members.length + 1} times in other words: one decision covers them all` }),
        el("p", { class: "muted small-text", text: "Approving keeps the wording chosen here and rejects the others as its duplicates." }),
        el("ul", { class: "plain" }, ...choices), split);
    }
  }

  // "Replaces: <that fact's text>" under a suggestion that would update an existing
  // memory (the API's updates_id and updates_text).
  function replacesLine(s) {
    const text = s.updates_text || `memory #${s.updates_id}`;
    return el("p", { class: "replaces small-text muted" }, el("strong", { text: "Replaces: " }), el("span", { class: "replaces-text", text }));
  }

  // For moderators and the owner: "2 suggestions from the model could not be
  // understood in the last 7 days. See them" (GET /api/memory/suggestions/runs,
  // linking to the admin), and how many were withheld as private, by kind (never
  // the facts). Hidden when nothing was dropped or withheld; a viewer's 403 stops
  // the asking. Returns { node, refresh }.
  function dropNotice() {
    const text = el("span");
    const link = el("a", { text: "See them in the admin" });
    const node = el("p", { class: "notice small-text", role: "status", hidden: true }, text, " ", link);
    let allowed = true;
    async function refresh() {
      if (!allowed) return;
      let runs;
      try { runs = await api("/api/memory/suggestions/runs"); }
      catch (e) { if (e.status === 403) allowed = false; return; }
      const what = runs.dropped === 1 ? "suggestion" : "suggestions";
      const dropped = `${runs.dropped} ${what} from the model could not be understood in the last ${runs.days} days.`;
      const kinds = runs.withheld_categories.map((kind) => `${kind.label}: ${kind.count}`).join(", ");
      const withheld = `${runs.withheld} withheld as private in the last ${runs.days} days (${kinds}).`;
      text.textContent = [runs.dropped ? dropped : "", runs.withheld ? withheld : ""].filter(Boolean).join(" ");
      link.href = runs.review_url;
      link.hidden = runs.dropped === 0;
      node.hidden = runs.dropped === 0 && runs.withheld === 0;
    }
    return { node, refresh };
  }

  // A page holds the notice's place with an element marked data-suggestion-drops, which
  // its template renders for moderators and the owner only (nobody else may ask).
  const placedNotices = [...document.querySelectorAll("[data-suggestion-drops]")].map((place) => {
    const notice = dropNotice();
    place.replaceWith(notice.node);
    notice.refresh();
    return notice;
  });
  const refreshDropNotices = () => placedNotices.forEach((notice) => notice.refresh());

  window.Luma.suggestions = { card, groupsOf, approve, reject, openEditor, parseTags, dropNotice, refreshDropNotices };
})();
