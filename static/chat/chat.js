// Luma web chat: streams replies over a WebSocket, keeps the last
// conversation in localStorage (bounded) so a reload shows it at once, then
// reconciles with the server. Model output is set as text while it streams;
// finished replies use the HTML the server rendered from Markdown and
// sanitised (chat/markdown.py), never HTML built here from model output.
// Beside it, upload-button.js adds document lines through Luma.chat, and
// suggestion-panel.js hears of finished replies through a "luma:reply" event.
(function () {
  "use strict";
  const { api, el, itemsOf } = window.Luma;
  const STORE_KEY = "luma.chat." + JSON.parse(document.getElementById("user-id").textContent);
  const STORE_MAX_MESSAGES = 50;
  const STORE_MAX_CHARS = 200000;
  const $ = (id) => document.getElementById(id);
  const list = $("messages"), input = $("input"), sendButton = $("send"), stopButton = $("stop");
  const banner = $("banner"), typing = $("typing"), conversations = $("conversation-list");

  let socket = null, conversationId = null, streaming = null, pending = null, busy = false;
  let queued = null; // a message waiting for the socket to open
  let missedUpdate = false; // another tab changed this chat while a reply streamed here
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

  function fillMessage(li, item) {
    li.luma = item;
    li.replaceChildren();
    if (item.reasoning) li.append(thinkingNote(item.reasoning, thoughtLabel(item.reasoningSeconds)));
    const body = el("div", { class: "body" });
    if (item.role === "assistant" && item.html) {
      body.classList.add("markdown");
      body.innerHTML = item.html; // sanitised on the server by nh3
    } else {
      body.textContent = item.content;
    }
    li.append(body);
    if (item.meta) li.append(el("small", { class: "meta", text: item.meta }));
    const note = memoriesNote(item.memories);
    if (note) li.append(note);
    if (item.role === "assistant" && STATUS_NOTES[item.status]) {
      li.append(el("div", { class: "row reply-status" },
        el("small", { class: "muted", text: STATUS_NOTES[item.status] }), continueButton(item)));
    }
  }

  // Continue is offered on the last reply only, while it is not complete.
  function refreshActions() {
    const replies = [...list.querySelectorAll(".message")];
    replies.forEach((li, index) => {
      const status = li.querySelector(".reply-status");
      if (status) status.hidden = busy || index !== replies.length - 1;
    });
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function render(items) {
    list.replaceChildren();
    for (const item of items) addMessage(item);
    refreshActions();
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

  function usageMeta(event) {
    const usage = event.usage || {};
    const tokens = (usage.prompt_tokens || 0) + (usage.completion_tokens || 0);
    return `${event.model} · ${tokens} tokens${usage.estimated ? " (estimated)" : ""}`;
  }

  function setBusy(value) {
    busy = value;
    sendButton.hidden = value;
    stopButton.hidden = !value;
    typing.hidden = !value;
    refreshActions();
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

  function storedItem(m) {
    return {
      id: m.id, role: "assistant", content: m.content, html: m.html, memories: m.memories,
      meta: usageMeta(m), status: m.status, reasoning: m.reasoning, reasoningSeconds: m.reasoning_seconds,
    };
  }

  function onEvent(event) {
    if (event.type === "user_message") {
      if (conversationId !== event.conversation_id) { conversationId = event.conversation_id; loadConversations(); }
      if (pending) pending.id = event.id; // stored: a resend answers it, never stores it twice
      if (pending && pending.li) {
        pending.li.classList.remove("failed"); pending.li.luma.failed = false;
        pending.li.dataset.id = event.id; pending.li.luma.id = event.id;
      }
      startStreaming(addMessage({ role: "assistant", content: "" }));
      save();
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
      streaming.querySelector(".body").textContent = streaming.luma.content;
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
      // A reply answers every message before it that had none (a failed one included).
      for (const li of list.querySelectorAll(".message.user.failed")) { li.classList.remove("failed"); li.luma.failed = false; }
      save();
      loadConversations().catch(() => {}); // most recent first
      document.dispatchEvent(new CustomEvent("luma:reply"));
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
    if (m.role !== "assistant") return { id: m.id, role: m.role, content: m.content };
    return storedItem(m);
  }

  async function openConversation(id) {
    const messages = await api(`/api/chat/conversations/${id}/messages`);
    if (busy) return;
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

  async function loadConversations() {
    const page = await api("/api/chat/conversations?limit=100");
    conversations.replaceChildren(...itemsOf(page).map(conversationItem));
    markCurrent();
  }

  function conversationItem(c) {
    const title = c.title || "New chat";
    const open = el("button", {
      type: "button", class: "conversation", dataset: { id: c.id }, title, text: title,
      onclick: () => { if (!busy) openConversation(c.id).catch((e) => showBanner(e.message, false)); },
    });
    const remove = el("button", { type: "button", class: "link remove", "aria-label": `Delete chat ${title}`, title: "Delete this chat", text: "×" });
    const li = el("li", { class: "conversation-item" }, open, remove);
    remove.addEventListener("click", () => {
      const yes = el("button", { type: "button", class: "small danger", text: "Delete" });
      const no = el("button", { type: "button", class: "small", text: "Keep" });
      const ask = el("div", { class: "row confirm" }, el("span", { class: "muted", text: "Delete this chat?" }), yes, no);
      no.addEventListener("click", () => ask.replaceWith(open, remove));
      yes.addEventListener("click", async () => {
        try { await api(`/api/chat/conversations/${c.id}`, { method: "DELETE" }); }
        catch (e) { showBanner(`Could not delete the chat: ${e.message}`, false); return; }
        li.remove();
        if (conversationId === c.id) newChat();
      });
      open.replaceWith(ask);
      remove.remove();
    });
    return li;
  }

  function newChat() {
    if (busy) return;
    conversationId = null;
    pending = null;
    list.replaceChildren();
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
  $("toggle-sidebar").addEventListener("click", () => {
    const open = document.body.classList.toggle("sidebar-open");
    $("toggle-sidebar").setAttribute("aria-expanded", String(open));
  });

  // Restore at once from localStorage, then reconcile with the server.
  try {
    const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (stored) { conversationId = stored.conversationId || null; render(stored.messages || []); }
  } catch (_) { localStorage.removeItem(STORE_KEY); }
  loadConversations().catch((e) => showBanner(`Could not load your conversations: ${e.message}`, false));
  if (conversationId) {
    openConversation(conversationId).catch((e) => {
      if (e.status === 404) { conversationId = null; list.replaceChildren(); save(); markCurrent(); return; }
      showBanner(`Showing the saved copy of this chat: the server did not answer (${e.message}).`, false, "saved");
    });
  }
  connect();
  input.focus();

  window.Luma.chat = { addMessage, save, showBanner };
})();
