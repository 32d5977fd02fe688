// Luma web chat: streams replies over a WebSocket, keeps the last
// conversation in localStorage so a reload shows it at once, then
// reconciles with the server. Model output is only ever set as text.
(function () {
  "use strict";
  const STORE_KEY = "luma.chat." + JSON.parse(document.getElementById("user-id").textContent);
  const STORE_MAX_MESSAGES = 50;
  const $ = (id) => document.getElementById(id);
  const list = $("messages"), input = $("input"), sendButton = $("send"), stopButton = $("stop");
  const banner = $("banner"), typing = $("typing"), conversations = $("conversation-list");

  let socket = null, conversationId = null, streaming = null, pendingText = null, busy = false;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function api(path, options = {}) {
    const response = await fetch("/api/chat" + path, {
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json" },
      ...options,
    });
    if (!response.ok) throw new Error((await response.json().catch(() => ({}))).message || response.statusText);
    return response.status === 204 ? null : response.json();
  }

  function save() {
    const items = [...list.querySelectorAll(".message:not(.streaming)")].slice(-STORE_MAX_MESSAGES).map((li) => ({
      role: li.dataset.role, content: li.dataset.content, meta: li.dataset.meta || "",
    }));
    localStorage.setItem(STORE_KEY, JSON.stringify({ conversationId, messages: items }));
  }

  function addMessage(role, content, meta = "") {
    const li = document.createElement("li");
    li.className = "message " + role;
    li.dataset.role = role;
    li.dataset.content = content;
    li.dataset.meta = meta;
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = content;
    li.appendChild(body);
    if (meta) {
      const small = document.createElement("small");
      small.className = "meta";
      small.textContent = meta;
      li.appendChild(small);
    }
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    return li;
  }

  function setBusy(value) {
    busy = value;
    sendButton.hidden = value;
    stopButton.hidden = !value;
    typing.hidden = !value;
  }

  function showBanner(text, canResend) {
    banner.replaceChildren(document.createTextNode(text));
    if (canResend && pendingText) {
      const resend = document.createElement("button");
      resend.type = "button";
      resend.textContent = "Resend";
      const text = pendingText;
      resend.addEventListener("click", () => { banner.hidden = true; send(text, true); });
      banner.appendChild(resend);
    }
    banner.hidden = false;
  }

  function usageMeta(event) {
    const usage = event.usage || {};
    const tokens = (usage.prompt_tokens || 0) + (usage.completion_tokens || 0);
    return `${event.model} · ${tokens} tokens${usage.estimated ? " (estimated)" : ""}` +
      (event.stopped ? " · stopped" : "");
  }

  function onEvent(event) {
    if (event.type === "user_message") {
      if (conversationId !== event.conversation_id) { conversationId = event.conversation_id; loadConversations(); }
      streaming = addMessage("assistant", "");
      streaming.classList.add("streaming");
      save();
    } else if (event.type === "token" && streaming) {
      streaming.dataset.content += event.text;
      streaming.querySelector(".body").textContent = streaming.dataset.content;
      list.scrollTop = list.scrollHeight;
    } else if (event.type === "done") {
      if (streaming) streaming.remove();
      addMessage("assistant", event.content, usageMeta(event));
      streaming = null; pendingText = null;
      save();
    } else if (event.type === "error") {
      if (streaming) { streaming.remove(); streaming = null; }
      if (event.conversation_id && conversationId !== event.conversation_id) {
        conversationId = event.conversation_id; loadConversations();
      }
      showBanner(event.message, true);
      save();
    } else if (event.type === "idle") {
      if (streaming) { streaming.classList.remove("streaming"); streaming = null; }
      setBusy(false);
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/chat/");
    socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
    socket.addEventListener("open", () => { if (!banner.dataset.sticky) banner.hidden = true; });
    socket.addEventListener("close", (closed) => {
      if (closed.code === 4401) { location.href = "/accounts/login/?next=/"; return; }
      if (busy) { setBusy(false); showBanner("The connection dropped during the reply. Reconnecting…", true); }
      setTimeout(connect, 1500);
    });
  }

  function send(text, isResend) {
    text = text.trim();
    if (!text || busy) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showBanner("Not connected yet. Try again in a moment.", false);
      return;
    }
    banner.hidden = true;
    if (!isResend) addMessage("user", text);
    pendingText = text;
    save();
    setBusy(true);
    socket.send(JSON.stringify({ type: "send", text, conversation_id: conversationId }));
  }

  function render(messages) {
    list.replaceChildren();
    for (const m of messages) addMessage(m.role, m.content, m.meta || "");
  }

  async function openConversation(id) {
    conversationId = id;
    const messages = await api(`/conversations/${id}/messages`);
    render(messages.map((m) => ({
      role: m.role, content: m.content,
      meta: m.role === "assistant" ? usageMeta({ model: m.model, usage: m }) : "",
    })));
    save();
    markCurrent();
  }

  function markCurrent() {
    for (const button of conversations.querySelectorAll("button")) {
      button.setAttribute("aria-current", String(Number(button.dataset.id) === conversationId));
    }
  }

  async function loadConversations() {
    const page = await api("/conversations?limit=100");
    conversations.replaceChildren();
    for (const c of page.items) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.id = c.id;
      button.textContent = c.title || "New chat";
      button.title = c.title;
      button.addEventListener("click", () => { if (!busy) openConversation(c.id); });
      li.appendChild(button);
      conversations.appendChild(li);
    }
    markCurrent();
  }

  $("composer").addEventListener("submit", (e) => { e.preventDefault(); const t = input.value; input.value = ""; send(t); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  stopButton.addEventListener("click", () => socket && socket.send(JSON.stringify({ type: "stop" })));
  $("new-chat").addEventListener("click", () => {
    if (busy) return;
    conversationId = null; list.replaceChildren(); banner.hidden = true; save(); markCurrent(); input.focus();
  });

  // Restore at once from localStorage, then reconcile with the server.
  try {
    const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (stored) { conversationId = stored.conversationId; render(stored.messages || []); }
  } catch (_) { localStorage.removeItem(STORE_KEY); }
  loadConversations().catch(() => {});
  if (conversationId) openConversation(conversationId).catch(() => { conversationId = null; list.replaceChildren(); save(); });
  connect();
})();
