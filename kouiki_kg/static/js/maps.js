// Pan and zoom for the server-drawn maps (svg-pan-zoom). The maps work without this script: it
// only adds zoom buttons under each map and dragging; the inset of Japan stays where it is.
(function () {
  "use strict";
  if (typeof svgPanZoom !== "function") return;
  const WORDS = {
    ja: { in: "拡大", out: "縮小", reset: "元の表示に戻す", group: "地図の拡大・縮小" },
    en: { in: "Zoom in", out: "Zoom out", reset: "Reset the view", group: "Map zoom" },
  };
  const words = WORDS[document.documentElement.lang] || WORDS.en;
  document.querySelectorAll(".figure.map").forEach((figure) => {
    const maps = Array.from(figure.querySelectorAll("svg.map"));
    const zoomers = new Map();
    // each drawing (wide, narrow) gets its own zoom the first time it is shown
    const visible = () => maps.find((svg) => svg.getBoundingClientRect().width > 0);
    const zoomer = () => {
      const svg = visible();
      if (!svg) return null;
      if (!zoomers.has(svg)) {
        // svg-pan-zoom takes the viewBox away: keep the drawing's proportions without it
        const box = svg.viewBox.baseVal;
        svg.style.aspectRatio = box.width + " / " + box.height;
        zoomers.set(svg, svgPanZoom(svg, {
          viewportSelector: ".viewport", zoomEnabled: true, controlIconsEnabled: false,
          mouseWheelZoomEnabled: false, dblClickZoomEnabled: true, fit: false, center: false,
          minZoom: 1, maxZoom: 12, preventMouseEventsDefault: false,
        }));
      }
      return zoomers.get(svg);
    };
    const bar = document.createElement("div");
    bar.className = "map-zoom";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", words.group);
    [["in", "+", (z) => z.zoomIn()], ["out", "−", (z) => z.zoomOut()], ["reset", "⟲", (z) => z.reset()]]
      .forEach(([name, symbol, act]) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = symbol;
        button.title = words[name];
        button.setAttribute("aria-label", words[name]);
        button.addEventListener("click", () => { const z = zoomer(); if (z) act(z); });
        bar.appendChild(button);
      });
    maps[maps.length - 1].closest(".map-frame").after(bar);
    zoomer();  // the drawing on screen now; the other one (after a resize) at its first touch
    maps.forEach((svg) => svg.addEventListener("pointerdown", () => zoomer(), { once: true }));
  });
})();
