// Small helpers the dashboard's scripts share (window.scoutDom). Every value from the API goes in with
// textContent (el() appends strings as text), never as HTML: banners, diagnostics and hop
// names come from mail servers.

(() => {
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  async function getJson(path) {
    const response = await fetch(path, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`${path}: ${body.error || response.status}`);
    return body;
  }

  function seconds(ms) {
    if (ms === undefined || ms === null) return "–";
    return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
  }

  window.scoutDom = { $, el, getJson, seconds };
})();
