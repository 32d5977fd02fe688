// The chat's side panel of memory suggestions waiting for review, as
// Luma.suggestions cards. Looked at again every 30 seconds, and a few times
// after each reply (suggestions are made in the background after it). Only
// shown when the owner lets the AI suggest memories. Moderators also see how
// many of the model's suggestions could not be understood lately.
(function () {
  "use strict";
  const list = document.getElementById("suggestions"), empty = document.getElementById("suggestions-empty");
  if (!list) return;
  const { api, el, itemsOf } = window.Luma;
  const showEmpty = () => { empty.hidden = list.children.length > 0; };
  const drops = window.Luma.suggestions.dropNotice();
  list.before(drops.node);

  function card(s) {
    const about = s.subject === "everyone" ? "about everyone" : `about ${s.subject_name || s.subject}`;
    const details = el("small", { class: "muted", text: `${about} · importance ${s.importance}` + (s.tags && s.tags.length ? ` · ${s.tags.join(", ")}` : "") });
    return window.Luma.suggestions.card(s, { look: "panel", details, onGone: showEmpty });
  }

  async function load() {
    drops.refresh();
    let page;
    try { page = await api("/api/memory/suggestions?limit=50"); }
    catch (e) {
      list.replaceChildren(el("li", { class: "error", text: `Could not load suggestions: ${e.message}` }));
      empty.hidden = true;
      return;
    }
    list.replaceChildren(...itemsOf(page).map(card));
    showEmpty();
  }

  let timers = [];
  document.addEventListener("luma:reply", () => {
    timers.forEach(clearTimeout);
    timers = [1500, 5000, 12000].map((ms) => setTimeout(load, ms));
  });
  load();
  setInterval(load, 30000);
})();
