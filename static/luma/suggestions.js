// A pending AI memory suggestion as a card with its review: approve, edit and
// approve, or reject (POST /api/memory/suggest {id, content?, importance?,
// tags?}, POST /api/memory/{id}/reject). Shared by the chat's side panel and
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
  // `actions`) until Cancel. onSave(edits, close) does the saving.
  function openEditor(m, { content, actions, textLabel, tagsPlaceholder, saveText, onSave }) {
    const text = el("textarea", { rows: 3, "aria-label": textLabel });
    text.value = m.content;
    const importance = el("input", { type: "number", min: 1, max: 10, value: m.importance, "aria-label": "Importance" });
    const tags = el("input", { type: "text", value: (m.tags || []).join(", "), "aria-label": "Tags", placeholder: tagsPlaceholder });
    const save = el("button", { type: "button", class: "small primary", text: saveText });
    const cancel = el("button", { type: "button", class: "small", text: "Cancel" });
    const form = el("div", { class: "edit" }, text, el("div", { class: "row" }, importance, tags), el("div", { class: "row" }, save, cancel));
    const close = () => { form.replaceWith(content); actions.hidden = false; };
    save.addEventListener("click", () => onSave(
      { content: text.value.trim(), importance: Number(importance.value), tags: parseTags(tags.value) }, close));
    cancel.addEventListener("click", close);
    content.replaceWith(form);
    actions.hidden = true;
    text.focus();
  }

  // s: a pending memory from the API. details: the line shown under its text.
  // pickable: a checkbox (class `pick`, data-id) for bulk review. onGone: called
  // once the card left the page, the suggestion approved or rejected.
  function card(s, { look = "panel", details = null, pickable = false, onGone = () => {} } = {}) {
    const names = LOOKS[look];
    const li = el("li", { class: names.item, dataset: { id: s.id } });
    const content = el("p", { class: names.content, text: s.content });
    const error = el("p", { class: names.error, role: "alert", hidden: true });
    const act = async (call) => {
      error.hidden = true;
      try { await call(); } catch (e) { error.textContent = e.message; error.hidden = false; return; }
      li.remove();
      onGone();
    };
    const edit = () => openEditor(s, {
      content, actions, textLabel: names.textLabel, tagsPlaceholder: names.tagsPlaceholder,
      saveText: "Save & approve", onSave: (edits) => act(() => approve(s.id, edits)),
    });
    const actions = el("div", { class: names.actions },
      el("button", { type: "button", class: "small primary", text: "Approve", onclick: () => act(() => approve(s.id)) }),
      el("button", { type: "button", class: "small", text: "Edit", onclick: edit }),
      el("button", { type: "button", class: "small danger", text: "Reject", onclick: () => act(() => reject(s.id)) }));
    const pick = pickable ? el("input", { type: "checkbox", class: "pick", "aria-label": "Select this suggestion", dataset: { id: s.id } }) : null;
    const head = pick ? el("div", { class: "pick-row" }, pick, content) : content;
    li.append(...[head, details, actions, error].filter(Boolean));
    return li;
  }

  // For moderators and the owner: "2 suggestions from the model could not be
  // understood in the last 7 days. See them" (GET /api/memory/suggestions/runs,
  // linking to the admin). Hidden when nothing was dropped; a viewer's 403 stops
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
      text.textContent = `${runs.dropped} ${what} from the model could not be understood in the last ${runs.days} days.`;
      link.href = runs.review_url;
      node.hidden = runs.dropped === 0;
    }
    return { node, refresh };
  }

  // A page may hold the notice's place with an element marked data-suggestion-drops.
  document.querySelectorAll("[data-suggestion-drops]").forEach((place) => {
    const notice = dropNotice();
    place.replaceWith(notice.node);
    notice.refresh();
  });

  window.Luma.suggestions = { card, approve, reject, openEditor, parseTags, dropNotice };
})();
