// Luma web chat: streams replies over a WebSocket, keeps the last
// conversation in localStorage (bounded) so a reload shows it at once, then
// reconciles with the server. Replies are shown as the HTML the server rendered
// from Markdown and sanitised (chat/markdown.py): while one streams, the socket's
// token events carry that HTML of the text so far now and then; never HTML built
// here from model output. Each message has its actions (copy, edit and resend,
// regenerate and swipe between versions, delete); clipboard.js does the copying.
// Beside it, upload-button.js adds document lines through Luma.chat, and
// suggestion-panel.js hears of finished replies through a "luma:reply" event.
(function () {
  "use strict";
  const { api, el, itemsOf, copyFrom, addCodeCopyButtons, debounce, timeElement } = window.Luma;
  const STORE_KEY = "luma.chat." + JSON.parse(document.getElementById("user-id").textContent);
  const STORE_MAX_MESSAGES = 50;
  const STORE_MAX_CHARS = 200000;
  const $ = (id) => document.getElementById(id);
  const list = $("messages"), input = $("input"), sendButton = $("send"), stopButton = $("stop");
  const banner = $("banner"), typing = $("typing"), conversations = $("conversation-list");

  let socket = null, conversationId = null, streaming = null, pending = null, busy = false;
  let queued = null; // a message waiting for the socket to open
  let missedUpdate = false; // another tab changed this chat while a reply streamed here
  let regenerating = null; // the reply a new version is being written of (hidden meanwhile)
  let searchQuery = ""; // the sidebar's search
  let chose = false; // the person sent, opened or started a chat since the page loaded
  let openings = 0; // the latest chat asked for: an answer for an older one is dropped
  let reconnectDelay = 500;

  // ---- rendering ---------------------------------------------------------

  function memoriesNote(memories) {
    if (!memories || !memories.length) return null;
    const items = memories.map((m) => el("li", { text: m.content }));
    return el("details", { class: "memories-used" },
      el("summary", { text: `Used ${memories.length} memor${memories.length === 1 ? "y" : "ies"}` }),
      el("ul", {}, ...items));
  }

  // How long a model thought, as Open WebUI shows it.
  function thoughtLabel(seconds) {
    if (seconds == null) return "Thoughts";
    return seconds < 1 ? "Thought for less than a second" : `Thought for ${Math.round(seconds)} s`;
  }

  function thinkingNote(text, label) {
    return el("details", { class: "thinking" },
      el("summary", { text: label }), el("div", { class: "thinking-text", text }));
  }

  const STATUS_NOTES = {
    stopped: "Stopped.",
    length: "Cut off by the reply length limit.",
    interrupted: "The reply broke off: the model server failed in the middle.",
  };

  function continueButton(item) {
    return el("button", {
      type: "button", class: "small continue", text: "Continue",
      title: "Let the model finish this reply",
      onclick: () => continueReply(item.id),
    });
  }

  // item: {id?, role, content, html?, meta?, memories?, failed?, status?, reasoning?, reasoningSeconds?}
  function addMessage(item) {
    const li = el("li", { class: `message ${item.role}` + (item.failed ? " failed" : "") });
    if (item.id) li.dataset.id = item.id;
    fillMessage(li, item);
    list.append(li);
    scrollDown();
    return li;
  }

  // Who speaks: the persona's name and avatar (data attributes of the chat section).
  const persona = document.querySelector("section.chat").dataset;
  function speakerLabel() {
    const avatar = el("span", { class: "avatar", "aria-hidden": "true" });
    avatar.style.backgroundImage = `url("${encodeURI(persona.personaAvatar)}")`;
    return el("div", { class: "speaker" }, avatar, el("span", { text: persona.personaName }));
  }

  // A new chat opens with the persona's greeting; the server stores it with the chat.
  function showGreeting() {
    if (persona.personaGreeting && !list.children.length) {
      addMessage({ role: "assistant", content: persona.personaGreeting, greeting: true });
    }
  }

  function fillMessage(li, item) {
    li.luma = item;
    li.replaceChildren();
    if (item.role === "assistant") li.append(speakerLabel());
    if (item.reasoning) li.append(thinkingNote(item.reasoning, thoughtLabel(item.reasoningSeconds)));
    const body = el("div", { class: "body" });
    if (item.role === "assistant" && item.html) {
      body.classList.add("markdown");
      body.innerHTML = item.html; // sanitised on the server by nh3
    } else {
      body.textContent = item.content;
    }
    li.append(body);
    addCodeCopyButtons(body);
    if (item.meta) li.append(el("small", { class: "meta", text: item.meta }));
    const note = memoriesNote(item.memories);
    if (note) li.append(note);
    if (item.role === "assistant" && STATUS_NOTES[item.status]) {
      li.append(el("div", { class: "row reply-status" },
        el("small", { class: "muted", text: STATUS_NOTES[item.status] }), continueButton(item)));
    }
    if (item.role === "user" || item.role === "assistant") li.append(messageActions(li, item));
  }

  // ---- message actions ---------------------------------------------------

  function actionButton(text, label, onclick, extra = "") {
    return el("button", { type: "button", class: `link action drawn-label ${extra}`.trim(), "aria-label": label, title: label, dataset: { label: text }, onclick });
  }

  function messageActions(li, item) {
    const who = item.role === "user" ? "your message" : "this reply";
    const bar = el("div", { class: "message-actions" });
    const copy = actionButton("Copy", `Copy ${who}`, () => copyFrom(copy, li.luma.content));
    bar.append(copy);
    if (!item.id || item.greeting) return bar; // not stored yet, or the greeting: copy only
    const versions = item.versions || [item.id];
    if (versions.length > 1) {
      const at = versions.indexOf(item.id);
      bar.append(el("span", { class: "versions", role: "group", "aria-label": "Versions of this reply" },
        actionButton("‹", "Previous version", () => chooseVersion(li, versions[at - 1]), "needs-idle"),
        el("span", { class: "version-count drawn-label", dataset: { label: `${at + 1}/${versions.length}` } }),
        actionButton("›", "Next version", () => chooseVersion(li, versions[at + 1]), "needs-idle")));
      const [previous, next] = bar.querySelectorAll(".versions button");
      previous.disabled = at <= 0;
      next.disabled = at >= versions.length - 1;
    }
    if (item.role === "user") bar.append(actionButton("Edit", "Edit your message", () => editMessage(li), "needs-idle"));
    bar.append(actionButton("Regenerate", item.role === "user" ? "Get a reply to this message" : "Regenerate this reply", () => regenerate(li), "needs-idle regenerate"));
    bar.append(actionButton("Delete", item.role === "user" ? "Delete your message and its reply" : "Delete this reply", () => confirmDelete(li, bar), "needs-idle"));
    for (const button of bar.querySelectorAll(".needs-idle")) button.disabled ||= busy; // until idle
    return bar;
  }

  function chatMessages() { return [...list.querySelectorAll(".message.user, .message.assistant")]; }

  // Continue is offered on the last reply only, while it is not complete; Regenerate on
  // the last message only (a reply, or your message that has none), and not while a
  // reply is on its way; the other actions are greyed while busy.
  function refreshActions() {
    const messages = chatMessages();
    const hasQuestion = messages.some((li) => li.classList.contains("user"));
    messages.forEach((li, index) => {
      const last = index === messages.length - 1;
      const status = li.querySelector(".reply-status");
      if (status) status.hidden = busy || !last;
      const again = li.querySelector(".regenerate");
      if (again) again.hidden = busy || !last || !hasQuestion;
      for (const button of li.querySelectorAll(".needs-idle")) button.disabled = busy;
    });
    for (const li of messages) {
      const buttons = li.querySelectorAll(".versions button");
      if (buttons.length === 2 && !busy) {
        const versions = li.luma.versions, at = versions.indexOf(li.luma.id);
        buttons[0].disabled = at <= 0;
        buttons[1].disabled = at >= versions.length - 1;
      }
    }
  }

  async function chooseVersion(li, id) {
    if (busy || !id) return;
    try {
      const chosen = await api(`/api/chat/conversations/${conversationId}/messages/${id}/select`, { method: "POST" });
      li.dataset.id = chosen.id;
      fillMessage(li, storedItem(chosen));
      refreshActions();
      save();
    } catch (e) { showBanner(`Could not switch versions: ${e.message}`, false); }
  }

  function regenerate(li) {
    if (busy || !conversationId) return;
    const item = li.luma;
    if (item.role === "user") { send(item.content, li, item.id); return; } // a message with no reply
    hideBanner();
    pending = null;
    setBusy(true);
    queued = JSON.stringify({ type: "regenerate", conversation_id: conversationId, message_id: item.id });
    if (socket && socket.readyState === WebSocket.OPEN) flushQueued();
  }

  function editMessage(li) {
    if (busy || li.querySelector(".edit-form")) return;
    const item = li.luma;
    const box = el("textarea", { class: "edit-box", "aria-label": "Edit your message", maxlength: $("input").maxLength > 0 ? $("input").maxLength : null });
    box.value = item.content;
    const later = () => { let n = 0; for (let next = li.nextElementSibling; next; next = next.nextElementSibling) n += next.matches(".message.user, .message.assistant") ? 1 : 0; return n; };
    const count = later();
    const form = el("form", { class: "edit-form" }, box,
      count ? el("small", { class: "muted", text: `Sending replaces the ${count} message${count === 1 ? "" : "s"} after this one.` }) : null,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "small primary", text: "Save & send" }),
        el("button", { type: "button", class: "small", text: "Cancel", onclick: () => fillMessage(li, item) })));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = box.value.trim();
      if (!text) { box.setCustomValidity("Write something to send."); box.reportValidity(); return; }
      resendEdited(li, text);
    });
    box.addEventListener("input", () => box.setCustomValidity(""));
    box.addEventListener("keydown", (e) => {
      if (e.key === "Escape") fillMessage(li, item);
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    li.querySelector(".body").replaceWith(form);
    li.querySelector(".message-actions").hidden = true;
    box.focus();
  }

  function resendEdited(li, text) {
    if (busy || !conversationId) return;
    hideBanner();
    while (li.nextElementSibling) li.nextElementSibling.remove(); // the later turns go
    fillMessage(li, { ...li.luma, content: text });
    pending = { text, li, id: li.luma.id };
    setBusy(true);
    save();
    queued = JSON.stringify({ type: "edit", conversation_id: conversationId, message_id: li.luma.id, text });
    if (socket && socket.readyState === WebSocket.OPEN) flushQueued();
  }

  function confirmDelete(li, bar) {
    const what = li.luma.role === "user" ? "Delete your message and its reply?" : "Delete this reply?";
    const yes = el("button", { type: "button", class: "small danger", text: "Delete" });
    const no = el("button", { type: "button", class: "small", text: "Keep" });
    const ask = el("div", { class: "row confirm", role: "group", "aria-label": what }, el("span", { text: what }), yes, no);
    no.addEventListener("click", () => { ask.replaceWith(bar); bar.querySelector("button").focus(); });
    yes.addEventListener("click", async () => {
      try {
        await api(`/api/chat/conversations/${conversationId}/messages/${li.luma.id}`, { method: "DELETE" });
      } catch (e) { showBanner(`Could not delete the message: ${e.message}`, false); ask.replaceWith(bar); return; }
      await openConversation(conversationId).catch((e) => showBanner(e.message, false));
    });
    bar.replaceWith(ask);
    no.focus();
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function render(items) {
    list.replaceChildren();
    for (const item of items) addMessage(item);
    refreshActions();
    document.dispatchEvent(new CustomEvent("luma:rendered"));  // upload-button.js puts its lines back
  }

  function currentItems() {
    return [...list.querySelectorAll(".message:not(.streaming)")].map((li) => li.luma).filter(Boolean);
  }

  function save() {
    let items = currentItems().slice(-STORE_MAX_MESSAGES);
    while (items.length && JSON.stringify(items).length > STORE_MAX_CHARS) items = items.slice(1);
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({ conversationId, messages: items }));
    } catch (_) { localStorage.removeItem(STORE_KEY); }
  }

  // The model and tokens of a reply; none for a message without usage (the greeting).
  function usageMeta(event) {
    const usage = event.usage || {};
    if (usage.prompt_tokens == null && usage.completion_tokens == null) return null;
    const tokens = (usage.prompt_tokens || 0) + (usage.completion_tokens || 0);
    return `${event.model} · ${tokens} tokens${usage.estimated ? " (estimated)" : ""}`;
  }

  function setBusy(value) {
    busy = value;
    sendButton.hidden = value;
    stopButton.hidden = !value;
    typing.hidden = !value;
    list.setAttribute("aria-busy", String(value));  // screen readers wait for the whole reply
    refreshActions();
  }

  // The status line is the chat's only live region: the streaming text is not one,
  // so a screen reader is told once that the reply is there (emptied first, so the
  // same words are said again for the next reply).
  function sayOnce(node, text) {
    if (!node) return;
    node.textContent = "";
    setTimeout(() => { node.textContent = text; }, 50);
  }

  function hideBanner() { banner.hidden = true; banner.replaceChildren(); }

  function showBanner(text, resendable, kind = "") {
    banner.dataset.kind = kind;
    banner.replaceChildren(el("span", { class: "banner-text", text }));
    if (resendable && pending) {
      const failed = pending;
      banner.append(el("button", {
        type: "button", class: "small", id: "resend", text: "Resend",
        onclick: () => { hideBanner(); send(failed.text, failed.li, failed.id); },
      }));
    }
    banner.append(el("button", { type: "button", class: "link close", "aria-label": "Dismiss", text: "×", onclick: hideBanner }));
    banner.hidden = false;
  }

  // ---- the socket --------------------------------------------------------

  function startStreaming(li) {
    streaming = li;
    streaming.classList.add("streaming");
    streaming.luma.thinking = "";
    const status = streaming.querySelector(".reply-status");
    if (status) status.remove();
  }

  function showThinking(text) {
    let note = streaming.querySelector("details.thinking.live");
    if (!note) {
      note = thinkingNote("", "Thinking…");
      note.classList.add("live");
      streaming.prepend(note);
    }
    streaming.luma.thinking += text;
    note.querySelector(".thinking-text").textContent = streaming.luma.thinking;
  }

  // A stored reply. The greeting, stored when a chat starts, came from no model: it
  // has no provider, model or usage, and shows as it did live (no meta, copy only).
  function storedItem(m) {
    const meta = usageMeta(m);
    return {
      id: m.id, role: "assistant", content: m.content, html: m.html, memories: m.memories,
      meta, status: m.status, reasoning: m.reasoning, reasoningSeconds: m.reasoning_seconds,
      versions: m.versions, greeting: !meta && !m.provider && !m.model,
    };
  }

  function onEvent(event) {
    if (event.type === "user_message") {
      if (conversationId !== event.conversation_id) { conversationId = event.conversation_id; loadConversations(); }
      if (pending) pending.id = event.id; // stored: a resend answers it, never stores it twice
      if (pending && pending.li) {
        pending.li.classList.remove("failed"); pending.li.luma.failed = false;
        pending.li.dataset.id = event.id; pending.li.luma.id = event.id;
        fillMessage(pending.li, pending.li.luma); // stored: its Edit and Delete come
      }
      startStreaming(addMessage({ role: "assistant", content: "" }));
      refreshActions(); // the stored message's new actions: greyed, and no Regenerate
      save();
    } else if (event.type === "regenerating") {
      // The new version streams below; the old one comes back if none is stored.
      regenerating = list.querySelector(`.message[data-id="${event.id}"]`);
      if (regenerating) regenerating.hidden = true;
      startStreaming(addMessage({ role: "assistant", content: "" }));
    } else if (event.type === "continuing") {
      const li = list.querySelector(`.message[data-id="${event.id}"]`);
      if (li) { li.luma.content = event.content; li.querySelector(".body").classList.remove("markdown"); startStreaming(li); }
    } else if (event.type === "reasoning" && streaming) {
      showThinking(event.text);
      scrollDown();
    } else if (event.type === "reply_was_reasoning" && streaming) {
      // What streamed as the reply was thinking (the model's template opened the block).
      const thought = streaming.luma.content;
      streaming.luma.content = "";
      streaming.querySelector(".body").textContent = "";
      showThinking(thought);
    } else if (event.type === "token" && streaming) {
      streaming.luma.content += event.text;
      const body = streaming.querySelector(".body");
      if (event.html !== undefined && event.html !== streaming.shownHtml) {
        // The text so far, rendered and sanitised on the server; the same rendering
        // again is left alone, so a copy button under the pointer stays put.
        streaming.shownHtml = event.html;
        body.classList.add("markdown");
        body.innerHTML = event.html;
        addCodeCopyButtons(body);
      } else if (!body.classList.contains("markdown")) {
        body.textContent = streaming.luma.content;
      }
      scrollDown();
    } else if (event.type === "done") {
      const shown = list.querySelector(`.message[data-id="${event.id}"]:not(.streaming)`);
      if (streaming && streaming.dataset.id && Number(streaming.dataset.id) === event.id) {
        fillMessage(streaming, storedItem(event));
        streaming.classList.remove("streaming");
      } else {
        if (streaming) streaming.remove();
        if (!shown) addMessage(storedItem(event)); // answered together: shown once
      }
      streaming = null;
      pending = null;
      if (regenerating) { regenerating.remove(); regenerating = null; }
      refreshActions();
      // A reply answers every message before it that had none (a failed one included).
      for (const li of list.querySelectorAll(".message.user.failed")) { li.classList.remove("failed"); li.luma.failed = false; }
      save();
      loadConversations().catch(() => {}); // most recent first
      document.dispatchEvent(new CustomEvent("luma:reply"));
      sayOnce($("chat-status"), "Reply finished.");
    } else if (event.type === "error") {
      if (streaming && streaming.dataset.id) { fillMessage(streaming, streaming.luma); streaming.classList.remove("streaming"); }
      else if (streaming) streaming.remove();
      streaming = null;
      if (event.conversation_id && conversationId !== event.conversation_id) {
        conversationId = event.conversation_id; loadConversations();
      }
      if (pending && event.user_message_id) pending.id = event.user_message_id;
      if (pending && pending.li) { pending.li.classList.add("failed"); pending.li.luma.failed = true; }
      showBanner(event.message, true);
      save();
    } else if (event.type === "conversation_updated") {
      // Another tab or device talked: refresh the list, and this chat if it is open
      // (once this tab's own reply is over, if one is streaming).
      loadConversations().catch(() => {});
      if (event.conversation_id === conversationId) {
        if (busy) missedUpdate = true;
        else openConversation(conversationId).catch(() => {});
      }
    } else if (event.type === "idle") {
      if (streaming && streaming.dataset.id) { fillMessage(streaming, streaming.luma); streaming.classList.remove("streaming"); }
      else if (streaming) streaming.remove();
      streaming = null;
      if (regenerating) { regenerating.hidden = false; regenerating = null; }
      setBusy(false);
      if (missedUpdate && conversationId) openConversation(conversationId).catch(() => {});
      missedUpdate = false;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/chat/");
    socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
    socket.addEventListener("open", () => {
      reconnectDelay = 500;
      if (banner.dataset.kind === "connection") hideBanner();
      if (banner.dataset.kind === "dropped" && conversationId) reconcileAfterDrop();
      flushQueued();
    });
    socket.addEventListener("close", (closed) => {
      if (closed.code === 4401) { location.href = "/accounts/login/?next=/"; return; }
      if (busy && !queued) {
        setBusy(false);
        if (streaming && streaming.dataset.id) { fillMessage(streaming, streaming.luma); streaming.classList.remove("streaming"); }
        else if (streaming) streaming.remove();
        streaming = null;
        if (regenerating) { regenerating.hidden = false; regenerating = null; }
        if (pending && pending.li) pending.li.classList.add("failed");
        showBanner("The connection dropped during the reply. Press Resend once it is back.", true, "dropped");
      }
      setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 10000);
    });
  }

  // The server kept what had streamed before the drop (a stopped reply): show it,
  // with Continue, instead of offering to send the message again.
  async function reconcileAfterDrop() {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await openConversation(conversationId).catch(() => {});
    const last = list.querySelector(".message:last-child");
    if (last && last.classList.contains("assistant")) { pending = null; hideBanner(); }
  }

  function send(text, existing, resendOf) {
    text = text.trim();
    if (!text || busy) return false;
    chose = true;
    hideBanner();
    const li = existing || addMessage({ role: "user", content: text });
    pending = { text, li, id: resendOf || null };
    save();
    setBusy(true);
    queued = JSON.stringify({ type: "send", text, conversation_id: conversationId, resend_of: resendOf || null });
    if (socket && socket.readyState === WebSocket.OPEN) flushQueued();
    else showBanner("Connecting to Luma… your message goes out as soon as the connection is up.", false, "connection");
    return true;
  }

  function continueReply(id) {
    if (busy || !conversationId) return;
    hideBanner();
    pending = null;
    setBusy(true);
    queued = JSON.stringify({ type: "continue", conversation_id: conversationId, continue_of: id });
    if (socket && socket.readyState === WebSocket.OPEN) flushQueued();
  }

  function flushQueued() {
    if (!queued) return;
    const payload = queued;
    queued = null;
    socket.send(payload);
  }

  // ---- conversations -----------------------------------------------------

  function fromServer(m) {
    if (m.role !== "assistant") return { id: m.id, role: m.role, content: m.content, versions: m.versions };
    return storedItem(m);
  }

  async function openConversation(id) {
    const ticket = ++openings;
    const messages = await api(`/api/chat/conversations/${id}/messages`);
    if (busy || ticket !== openings) return; // the person went elsewhere meanwhile
    if (conversationId !== id) { pending = null; hideBanner(); }
    conversationId = id;
    render(messages.map(fromServer));
    save();
    markCurrent();
    closeSidebar();
  }

  function markCurrent() {
    for (const button of conversations.querySelectorAll("button.conversation")) {
      button.setAttribute("aria-current", String(Number(button.dataset.id) === conversationId));
    }
  }

  // The sidebar: your conversations, most recently updated first (those matching the
  // search box while it holds words). Returns them.
  async function loadConversations() {
    const query = searchQuery;
    const page = await api("/api/chat/conversations?limit=100" + (query ? "&q=" + encodeURIComponent(query) : ""));
    if (query !== searchQuery) return itemsOf(page); // a newer search is on its way
    const found = itemsOf(page);
    conversations.replaceChildren(...found.map(conversationItem));
    if (query && !found.length) conversations.append(el("li", { class: "muted no-match", text: `No chats match “${query}”.` }));
    markCurrent();
    return found;
  }

  function conversationItem(c) {
    const title = c.title || "New chat";
    const open = el("button", {
      type: "button", class: "conversation", dataset: { id: c.id }, title, text: title,
      onclick: () => { chose = true; if (!busy) openConversation(c.id).catch((e) => showBanner(e.message, false)); },
    });
    const rename = el("button", { type: "button", class: "link rename", "aria-label": `Rename chat ${title}`, title: "Rename this chat", text: "✎" });
    const exportUrl = (format) => `/api/chat/conversations/${c.id}/export?format=${format}`;
    const download = el("details", { class: "export-menu" },
      el("summary", { "aria-label": `Export chat ${title}`, title: "Export this chat", text: "⤓" }),
      el("div", { class: "export-choices" },
        el("a", { href: exportUrl("markdown"), download: "", text: "Markdown (.md)" }),
        el("a", { href: exportUrl("json"), download: "", text: "JSON (.json)" })));
    const remove = el("button", { type: "button", class: "link remove", "aria-label": `Delete chat ${title}`, title: "Delete this chat", text: "×" });
    const row = el("div", { class: "conversation-row" }, open, rename, download, remove);
    const about = el("div", { class: "conversation-about muted" }, timeElement(c.updated_at, { class: "conversation-date" }));
    if (c.snippet) about.append(el("span", { class: "snippet", text: c.snippet }));
    const li = el("li", { class: "conversation-item" }, row, about);
    rename.addEventListener("click", () => {
      const box = el("input", { type: "text", class: "rename-box", maxlength: 200, "aria-label": "New title", value: title });
      const form = el("form", { class: "rename-form row" }, box,
        el("button", { type: "submit", class: "small primary", text: "Save" }),
        el("button", { type: "button", class: "small", text: "Cancel", onclick: () => form.replaceWith(row) }));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const wanted = box.value.trim();
        if (!wanted) { box.setCustomValidity("A title cannot be empty."); box.reportValidity(); return; }
        try { await api(`/api/chat/conversations/${c.id}`, { method: "PATCH", body: { title: wanted } }); }
        catch (err) { showBanner(`Could not rename the chat: ${err.message}`, false); return; }
        await loadConversations().catch(() => {});
      });
      box.addEventListener("input", () => box.setCustomValidity(""));
      box.addEventListener("keydown", (e) => { if (e.key === "Escape") form.replaceWith(row); });
      row.replaceWith(form);
      box.select();
    });
    remove.addEventListener("click", () => {
      const yes = el("button", { type: "button", class: "small danger", text: "Delete" });
      const no = el("button", { type: "button", class: "small", text: "Keep" });
      const ask = el("div", { class: "row confirm" }, el("span", { class: "muted", text: "Delete this chat?" }), yes, no);
      no.addEventListener("click", () => ask.replaceWith(row));
      yes.addEventListener("click", async () => {
        try { await api(`/api/chat/conversations/${c.id}`, { method: "DELETE" }); }
        catch (e) { showBanner(`Could not delete the chat: ${e.message}`, false); return; }
        li.remove();
        if (conversationId === c.id) newChat();
      });
      row.replaceWith(ask);
      no.focus();
    });
    return li;
  }

  function newChat() {
    if (busy) return;
    chose = true;
    openings += 1;
    conversationId = null;
    pending = null;
    list.replaceChildren();
    showGreeting();
    hideBanner();
    save();
    markCurrent();
    closeSidebar();
    input.focus();
  }

  // ---- wiring ------------------------------------------------------------

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 200) + "px";
  }

  function closeSidebar() {
    document.body.classList.remove("sidebar-open");
    $("toggle-sidebar").setAttribute("aria-expanded", "false");
  }

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    if (send(input.value)) { input.value = ""; autosize(); }
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  input.addEventListener("input", autosize);
  stopButton.addEventListener("click", () => socket && socket.send(JSON.stringify({ type: "stop" })));
  $("new-chat").addEventListener("click", newChat);
  const search = $("conversation-search");
  search.addEventListener("input", debounce(() => {
    searchQuery = search.value.trim();
    loadConversations().catch((e) => showBanner(`Could not search your chats: ${e.message}`, false));
  }, 250));
  $("toggle-sidebar").addEventListener("click", () => {
    const open = document.body.classList.toggle("sidebar-open");
    $("toggle-sidebar").setAttribute("aria-expanded", String(open));
  });

  // Restore at once from localStorage, then reconcile with the server. A browser that
  // never opened Luma (a new device) opens your most recently updated chat.
  const newDevice = localStorage.getItem(STORE_KEY) === null;
  try {
    const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (stored) { conversationId = stored.conversationId || null; render(stored.messages || []); }
  } catch (_) { localStorage.removeItem(STORE_KEY); }
  if (!conversationId) showGreeting();
  const listed = loadConversations().catch((e) => {
    showBanner(`Could not load your conversations: ${e.message}`, false);
    return [];
  });
  // Your most recently updated chat, or a new one with the greeting when you have none.
  function openLatest(found) {
    if (chose || conversationId || busy) return;
    if (!found.length) { showGreeting(); return; }
    openConversation(found[0].id).catch((e) => { showGreeting(); showBanner(e.message, false); });
  }
  if (conversationId) {
    const restored = conversationId;
    openConversation(restored).catch(async (e) => {
      if (e.status !== 404) {
        showBanner(`Showing the saved copy of this chat: the server did not answer (${e.message}).`, false, "saved");
        return;
      }
      // Deleted elsewhere: forget it and open what a new browser would.
      if (chose || busy || conversationId !== restored) return;
      conversationId = null;
      list.replaceChildren();
      localStorage.removeItem(STORE_KEY);
      markCurrent();
      openLatest(await listed);
    });
  } else if (newDevice) {
    listed.then(openLatest);
  }
  connect();
  input.focus();

  window.Luma.chat = { addMessage, save, showBanner, conversation: () => conversationId };
})();
