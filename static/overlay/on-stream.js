// The settings page's "On stream" section: the overlay address (copy, rotate), the
// moderation filter and the Twitch settings, saved through /api/stream; what the
// filter blocked, listed. Errors show next to their field and keep what was typed.
(function () {
  "use strict";
  const form = document.getElementById("on-stream");
  if (!form) return;
  const { api, el } = window.Luma;
  const urlInput = document.getElementById("overlay-url");
  const status = document.getElementById("on-stream-status");
  const overlayStatus = document.getElementById("overlay-status");

  function showToken(token) {
    urlInput.dataset.token = token || "";
    urlInput.value = token ? `${location.origin}/overlay/?token=${token}` : "";
    urlInput.placeholder = token ? "" : "No overlay address yet: press Create.";
    document.getElementById("overlay-rotate").textContent = token ? "Rotate" : "Create";
  }
  showToken(urlInput.dataset.token);

  document.getElementById("overlay-copy").addEventListener("click", async () => {
    if (!urlInput.value) return;
    urlInput.select();
    try { await navigator.clipboard.writeText(urlInput.value); overlayStatus.textContent = "Copied."; }
    catch (_) { document.execCommand("copy"); overlayStatus.textContent = "Copied."; }
  });

  document.getElementById("overlay-rotate").addEventListener("click", async () => {
    if (urlInput.dataset.token && !confirm("Make a new overlay address? The old one stops working at once (update OBS).")) return;
    try {
      const answer = await api("/api/stream/overlay-token", { method: "POST" });
      showToken(answer.overlay_token);
      overlayStatus.textContent = "New address made: paste it into OBS.";
    } catch (error) { overlayStatus.textContent = error.message; }
  });

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((node) => node.remove());
    form.querySelectorAll(".has-error").forEach((node) => node.classList.remove("has-error"));
  }

  function values() {
    const data = new FormData(form);
    const number = (name) => Number(data.get(name));
    return {
      overlay_surfaces: data.getAll("overlay_surfaces"),
      overlay_fade_seconds: number("overlay_fade_seconds"),
      stream_blocklist: data.get("stream_blocklist") || "",
      twitch_command_prefix: (data.get("twitch_command_prefix") || "").trim(),
      twitch_viewer_cooldown: number("twitch_viewer_cooldown"),
      twitch_channel_rate: number("twitch_channel_rate"),
      twitch_stale_seconds: number("twitch_stale_seconds"),
      twitch_known_bots: data.get("twitch_known_bots") || "",
      twitch_mods_skip_cooldown: data.get("twitch_mods_skip_cooldown") !== null,
    };
  }

  function fieldOf(message) {
    const match = /^Invalid value for (\w+):/.exec(message) || /^Invalid request: (?:payload\.)?(\w+)/.exec(message);
    return match ? document.getElementById(`field-${match[1]}`) : null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    status.textContent = "Saving…";
    try {
      await api("/api/stream/settings", { method: "PUT", body: values() });
      status.textContent = "Stream settings saved.";
    } catch (error) {
      status.textContent = "";
      const field = fieldOf(error.message);
      const note = el("p", { class: "field-error", role: "alert", text: error.message });
      if (field) { field.classList.add("has-error"); field.append(note); }
      else status.append(note);
    }
  });

  async function loadBlocked() {
    const summary = document.getElementById("blocked-summary");
    try {
      const blocked = await api("/api/stream/blocked");
      summary.textContent = `Blocked so far: ${blocked.viewer_total} viewer message(s), ${blocked.reply_total} reply(ies); ${blocked.last_day} in the last 24 hours.`;
      const list = document.getElementById("blocked-list");
      list.replaceChildren(...blocked.latest.map((item) => el("li", {},
        el("strong", { text: item.direction === "reply" ? "Reply" : (item.author_name || "Viewer") }),
        ` (${new Date(item.created_at).toLocaleString()}, “${item.entry}”): `,
        el("span", { text: item.text }))));
      if (!blocked.latest.length) list.append(el("li", { class: "muted", text: "Nothing yet." }));
    } catch (error) { summary.textContent = error.message; }
  }
  loadBlocked();
})();
