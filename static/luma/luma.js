// Small helpers shared by Luma's pages: CSRF-aware JSON fetch, DOM building, one
// way of writing dates, and the page's chrome (the phone menu, panels opened by a
// button). Text from the server is only ever set with textContent. base.html loads it
// in <head> for every page (a page that loads it again changes nothing), so the
// menu is folded before the first paint.
(function () {
  "use strict";
  if (window.Luma) return;
  document.documentElement.classList.add("js");

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  class ApiError extends Error {
    constructor(message, status, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  async function errorMessage(response) {
    const text = await response.text().catch(() => "");
    try {
      const body = JSON.parse(text);
      if (body && (body.message || body.detail)) {
        return typeof body.message === "string" ? body.message : JSON.stringify(body.detail);
      }
    } catch (_) { /* not JSON: an HTML error page */ }
    return `${response.status} ${response.statusText || "error"}`.trim();
  }

  async function api(url, options = {}) {
    const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    if (options.body !== undefined && !(options.body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      if (typeof options.body !== "string") options = { ...options, body: JSON.stringify(options.body) };
    }
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", ...options, headers });
    } catch (e) {
      throw new ApiError("the server could not be reached", 0);
    }
    if (response.status === 401) location.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname);
    if (!response.ok) throw new ApiError(await errorMessage(response), response.status);
    return response.status === 204 ? null : response.json();
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  // Paginated ninja answers are {items, count}; plain lists are lists.
  function itemsOf(page) {
    if (Array.isArray(page)) return page;
    return (page && (page.items || page.results)) || [];
  }

  // ---- dates: one format everywhere -------------------------------------------------
  // The server writes each date as <time datetime="ISO">; this writes every one of
  // them, on load and whenever one is added later, so a date reads the same before and
  // after a live update. data-format="date": the day only.
  const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const DATE_ONLY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

  function formatDateTime(iso) {
    const when = new Date(iso);
    return Number.isNaN(when.getTime()) ? String(iso) : DATE_TIME.format(when);
  }

  function formatDate(iso) {
    // A bare day ("2026-11-30") is that day wherever the reader is, not UTC midnight.
    const when = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T12:00:00`) : new Date(iso);
    return Number.isNaN(when.getTime()) ? String(iso) : DATE_ONLY.format(when);
  }

  // Idempotent: text the parser adds to a <time> after it was written is written over.
  function formatTime(node) {
    const iso = node.getAttribute("datetime");
    if (!iso) return;
    const text = node.dataset.format === "date" ? formatDate(iso) : formatDateTime(iso);
    if (node.textContent !== text) node.textContent = text;
    if (!node.title) node.title = iso;
  }

  // <time datetime=iso> written as every other date on the page.
  function timeElement(iso, { format = "", ...attrs } = {}) {
    const node = el("time", { datetime: iso, ...attrs, dataset: format ? { format } : undefined });
    formatTime(node);
    return node;
  }

  function formatTimes(root = document) {
    if (root.matches && root.matches("time[datetime]")) formatTime(root);
    root.querySelectorAll?.("time[datetime]").forEach(formatTime);
  }

  // ---- whom a memory is about -----------------------------------------------------------
  // "about everyone", or the name the API gives (subject_label: the name it was given,
  // the account's username, "Discord user …"); never the API's notation (user:1).
  function aboutText(memory) {
    if (!memory.subject || memory.subject === "everyone") return "about everyone";
    const label = memory.subject_label && !/^(user|discord|twitch):\d+$/.test(memory.subject_label) ? memory.subject_label : "";
    return `about ${label || memory.subject_name || "someone"}`;
  }

  // ---- the page's chrome ------------------------------------------------------------------
  // The phone menu: a button that folds the navigation away (aria-expanded, Esc closes
  // and gives the button its focus back). Without script the navigation stays open.
  // Listened for on the document from the start: the button shows as soon as this script
  // runs (the "js" class), before the rest of the page has loaded.
  function menu() {
    const set = (toggle, open) => {
      toggle.closest(".topbar").classList.toggle("menu-open", open);
      toggle.setAttribute("aria-expanded", String(open));
    };
    document.addEventListener("click", (e) => {
      const toggle = e.target.closest?.(".topbar .menu-toggle");
      if (toggle) set(toggle, toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", (e) => {
      const toggle = document.querySelector(".topbar .menu-toggle");
      if (e.key !== "Escape" || !toggle || !e.target.closest?.(".topbar")) return;
      if (toggle.getAttribute("aria-expanded") !== "true") return;
      set(toggle, false);
      toggle.focus();
    });
  }
  menu();

  // Panels a button opens over the page on narrow screens (the chat's conversations and
  // suggestions): <button data-panel-toggle="NAME" aria-controls=ID> puts the class
  // NAME-open on the body; [data-panel-close="NAME"] inside the panel and Esc close it
  // again, giving the focus back to the button (for the conversations, chat.js's
  // #toggle-sidebar opens them).
  function panels() {
    const toggleOf = (name) => document.querySelector(`[data-panel-toggle="${name}"], #toggle-${name}`);
    const close = (name) => {
      if (!document.body.classList.contains(`${name}-open`)) return;
      document.body.classList.remove(`${name}-open`);
      const toggle = toggleOf(name);
      if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    };
    for (const toggle of document.querySelectorAll("[data-panel-toggle]")) {
      const name = toggle.dataset.panelToggle, panel = document.getElementById(toggle.getAttribute("aria-controls"));
      toggle.addEventListener("click", () => {
        const open = !document.body.classList.contains(`${name}-open`);
        document.body.classList.toggle(`${name}-open`, open);
        toggle.setAttribute("aria-expanded", String(open));
        if (open && panel) (panel.querySelector("h2, h1, [tabindex]") || panel).focus({ preventScroll: true });
      });
    }
    for (const button of document.querySelectorAll("[data-panel-close]")) {
      const name = button.dataset.panelClose, panel = button.parentElement;
      button.addEventListener("click", () => close(name));
      panel.addEventListener("keydown", (e) => { if (e.key === "Escape") close(name); });
    }
  }

  function whenReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn, { once: true });
    else fn();
  }

  // Watching from <head> on, a date is written as the parser or a script adds it, before
  // it is painted in the server's form.
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "attributes" || change.target.matches?.("time[datetime]")) formatTime(change.target);
      else change.addedNodes.forEach((node) => { if (node.nodeType === 1) formatTimes(node); });
    }
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["datetime"] });

  whenReady(() => {
    panels();
    formatTimes();
  });

  window.Luma = {
    api, ApiError, csrfToken, el, debounce, itemsOf, errorMessage,
    formatDateTime, formatDate, timeElement, formatTimes, aboutText,
  };
})();
