// The OBS overlay: the question being answered and the persona's reply as it streams,
// faded out a while after it ends. The token in the page's URL opens the socket; a
// wrong one is refused there and the page stays blank.
(function () {
  "use strict";
  const params = new URLSearchParams(location.search);
  const token = params.get("token") || "";
  const box = document.getElementById("overlay");
  const asker = document.getElementById("overlay-asker");
  const question = document.getElementById("overlay-question");
  const persona = document.getElementById("overlay-persona");
  const answer = document.getElementById("overlay-answer");
  const avatar = document.getElementById("overlay-avatar");
  avatar.addEventListener("error", () => { avatar.hidden = true; });
  let fadeSeconds = 15;
  let personaName = "";
  let current = null;
  let fadeTimer = null;
  let hideTimer = null;
  let retry = 1000;

  function showAvatar(url) {
    if (!url) { avatar.hidden = true; return; }
    if (avatar.getAttribute("src") !== url) avatar.src = url;
    // An image that failed to load stays hidden (its error event fired once, earlier).
    avatar.hidden = avatar.complete && avatar.naturalWidth === 0;
  }

  function show() {
    clearTimeout(fadeTimer); clearTimeout(hideTimer);
    box.classList.remove("fading");
    box.hidden = false;
  }

  function fadeLater(seconds) {
    clearTimeout(fadeTimer); clearTimeout(hideTimer);
    fadeTimer = setTimeout(() => {
      box.classList.add("fading");
      hideTimer = setTimeout(() => { box.hidden = true; current = null; }, 1300);
    }, seconds * 1000);
  }

  function handle(event) {
    if (event.type === "hello") {
      fadeSeconds = event.fade_seconds || fadeSeconds;
      personaName = event.persona || "";
      showAvatar(event.avatar_url);
      return;
    }
    if (event.type === "question") {
      current = event.reply_id;
      asker.textContent = event.name || "";
      question.textContent = event.question || "";
      asker.parentElement.hidden = !(event.name || event.question);
      persona.textContent = event.persona || personaName;
      showAvatar(event.avatar_url);
      answer.textContent = event.text || "";
      show();
      return;
    }
    if (event.reply_id !== current) return;
    if (event.type === "reply") {
      answer.textContent = event.text;
    } else if (event.type === "done") {
      answer.textContent = event.text;
      fadeLater(fadeSeconds);
    } else if (event.type === "end") {
      fadeLater(answer.textContent ? fadeSeconds : 0);
    }
  }

  function connect() {
    if (!token) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/ws/overlay/?${params.toString()}`;
    const socket = new WebSocket(url);
    let opened = false;
    socket.onopen = () => { opened = true; retry = 1000; };
    socket.onmessage = (message) => {
      try { handle(JSON.parse(message.data)); } catch (_) { /* not for us */ }
    };
    socket.onclose = () => {
      if (!opened) { box.hidden = true; }
      // Refused (a wrong or rotated token) or dropped (a server restart): try again
      // later, slowly; a valid token comes back without touching OBS.
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  connect();
})();
