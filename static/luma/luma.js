// Small helpers shared by Luma's pages: CSRF-aware JSON fetch and DOM building.
// Text from the server is only ever set with textContent.
(function () {
  "use strict";

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

  window.Luma = { api, ApiError, csrfToken, el, debounce, itemsOf, errorMessage };
})();
