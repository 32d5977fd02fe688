// What e2e/test_contrast.py measures on a page: each text's colour over what is
// behind it (its own background, or the first one below it, translucent layers
// blended), and each input's border (or the frame drawn around it) over the
// background around it. Colours come back as #rrggbb.
() => {
  const parse = (css) => {
    const m = css.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a];
  };
  const over = (top, below) => top[3] >= 1 ? top : [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  function backdrop(node) {
    const layers = [];
    for (let up = node; up && up.nodeType === 1; up = up.parentElement) {
      const colour = parse(getComputedStyle(up).backgroundColor);
      if (colour && colour[3] > 0) { layers.push(colour); if (colour[3] >= 1) break; }
    }
    let result = parse(getComputedStyle(document.documentElement).backgroundColor) || [255, 255, 255, 1];
    if (result[3] < 1) result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  }
  const visible = (node) => {
    const box = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    return box.width > 1 && box.height > 1 && style.visibility !== "hidden" && style.display !== "none" && Number(style.opacity) > 0;
  };
  const name = (node) => node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") + (node.className && typeof node.className === "string" ? "." + node.className.trim().split(/\s+/).join(".") : "");
  const texts = [], borders = [];
  for (const node of document.body.querySelectorAll("*")) {
    if (!visible(node) || node.closest("[disabled], svg, .visually-hidden")) continue;
    const own = [...node.childNodes].filter((c) => c.nodeType === 3 && c.textContent.trim()).map((c) => c.textContent.trim()).join(" ");
    if (own) {
      const colour = parse(getComputedStyle(node).color);
      const behind = backdrop(node);
      texts.push({ where: name(node), text: own.slice(0, 40), fg: hex(over(colour, behind)), bg: hex(behind) });
    }
    if (node.matches("input:not([type=checkbox]):not([type=radio]):not([type=file]):not([type=hidden]):not([type=range]), select, textarea")) {
      if (node.placeholder) {
        texts.push({ where: name(node) + "::placeholder", text: node.placeholder, fg: hex(over(parse(getComputedStyle(node, "::placeholder").color), backdrop(node))), bg: hex(backdrop(node)) });
      }
      // The field's frame: its own border, or that of the box drawn around it (the composer).
      let frame = node;
      while (frame && (getComputedStyle(frame).borderTopStyle === "none" || parseFloat(getComputedStyle(frame).borderTopWidth) === 0)) frame = frame.parentElement;
      if (!frame) { borders.push({ where: name(node), fg: "none", bg: "none" }); continue; }
      const around = backdrop(frame.parentElement);
      borders.push({ where: name(node), fg: hex(over(parse(getComputedStyle(frame).borderTopColor), around)), bg: hex(around) });
    }
  }
  return { texts, borders };
}
