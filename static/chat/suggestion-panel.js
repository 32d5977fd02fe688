// The chat's side panel of memory suggestions waiting for review, as
// Luma.suggestions cards (near-duplicates grouped under one card), reviewable by
// keyboard (Luma.review: j/k, a, e, r, x, u, ?). Looked at again every 30
// seconds, a few times after each reply (suggestions are made in the background
// after it), and after an undo. Only shown when the owner lets the AI suggest
// memories. Moderators also see how many of the model's suggestions could not be
// understood lately (the template's data-suggestion-drops place, theirs only).
(function () {
  "use strict";
  const list = document.getElementById("suggestions"), empty = document.getElementById("suggestions-empty");
  if (!list) return;
  const { api, el } = window.Luma;
  const { review, suggestions } = window.Luma;
  const showEmpty = () => { empty.hidden = list.children.length > 0; };
  const keys = el("button", { type: "button", class: "link small-text", text: "Review by keyboard: the keys (?)", onclick: review.toggleHelp });
  list.before(keys);

  function details(s) {
    const about = window.Luma.aboutText(s);
    return el("small", { class: "muted", text: `${about} · importance ${s.importance}` + (s.tags && s.tags.length ? ` · ${s.tags.join(", ")}` : "") });
  }

  const card = ({ lead, members }) => suggestions.card(lead, { look: "panel", details, members, pickable: true, onGone: showEmpty });

  async function load() {
    suggestions.refreshDropNotices();
    let items;
    try { items = await api("/api/memory/suggestions"); }
    catch (e) {
      list.replaceChildren(el("li", { class: "error", text: `Could not load suggestions: ${e.message}` }));
      empty.hidden = true;
      return;
    }
    // A card being edited or picked stays as it is while it is still pending.
    const busy = new Map([...list.querySelectorAll("[data-id]")]
      .filter((li) => li.querySelector(".edit, .pick:checked")).map((li) => [li.dataset.id, li]));
    list.replaceChildren(...suggestions.groupsOf(items).map((group) => busy.get(String(group.lead.id)) || card(group)));
    review.setPendingCount(items.length < 200 ? items.length : undefined);
    showEmpty();
  }

  review.keyboard(list);
  let timers = [];
  document.addEventListener("luma:reply", () => {
    timers.forEach(clearTimeout);
    timers = [1500, 5000, 12000].map((ms) => setTimeout(load, ms));
  });
  document.addEventListener("luma:suggestions-changed", load);
  load();
  setInterval(load, 30000);
})();
