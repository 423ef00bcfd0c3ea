// The public map of appeals: cells of the zoom's grid with their counts, coloured by the block most
// of their appeals belong to; the counts by block beside the map, as text, for every reader.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const labels = JSON.parse(document.getElementById("map-labels").textContent);
  const select = document.getElementById("map-block");
  const summary = document.getElementById("map-summary");
  const legend = document.getElementById("legend");
  const map = L.map("map", { keyboard: true });
  if (config.extent) map.fitBounds(config.extent); else map.setView([config.view.lat, config.view.lon], config.view.zoom);
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution || "" }).addTo(map);
  } else {
    fetch(config.backdrop, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
      const renderer = L.canvas({ padding: 0.2 });
      const layer = L.layerGroup(data.points.map((p) => L.circleMarker(p, { renderer: renderer, radius: 1.5, stroke: false, fillColor: "#9aa6b5", fillOpacity: 0.6, interactive: false })));
      layer.addTo(map);
      layer.eachLayer((m) => m.bringToBack());
    });
  }
  const cells = L.layerGroup().addTo(map);
  let asked = 0;

  function text(tag, value, cls) {
    const node = document.createElement(tag);
    node.textContent = value;
    if (cls) node.className = cls;
    return node;
  }
  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

  async function load() {
    const b = map.getBounds();
    const bbox = [clamp(b.getWest(), -180, 179.999), clamp(b.getSouth(), -90, 89.999), clamp(b.getEast(), -179.999, 180), clamp(b.getNorth(), -89.999, 90)].map((v) => v.toFixed(6)).join(",");
    const params = new URLSearchParams({ bbox: bbox, zoom: String(map.getZoom()) });
    if (select.value) params.set("block", select.value);
    const mine = ++asked;
    let data;
    try {
      const response = await fetch(`${config.data}?${params}`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.statusText);
      data = await response.json();
    } catch (error) {
      summary.textContent = labels.failed;
      return;
    }
    if (mine !== asked) return; // a later view's answer is on its way
    draw(data);
  }

  function draw(data) {
    const colours = Object.fromEntries(data.blocks.map((b) => [b.code, b.color]));
    const names = Object.fromEntries(data.blocks.map((b) => [b.code, b.name]));
    cells.clearLayers();
    for (const c of data.cells) {
      const marker = L.circleMarker([c.lat, c.lon], { radius: Math.min(28, 7 + 4 * Math.log2(c.n)), color: "#fff", weight: 1.5, fillColor: colours[c.block] || "#5b6878", fillOpacity: 0.85 });
      const tip = document.createElement("div");
      tip.append(text("b", `${c.n} ${labels.appeals}`));
      for (const [code, n] of Object.entries(c.blocks).sort((a, b) => b[1] - a[1])) {
        tip.append(document.createElement("br"), `${names[code] || code}: ${n}`);
      }
      marker.bindTooltip(tip);
      marker.on("click", () => map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 18)));
      cells.addLayer(marker);
    }
    summary.textContent = `${labels.summary} ${data.total}${data.truncated ? ` (${labels.truncated})` : ""}`;
    legend.replaceChildren();
    for (const b of data.blocks) {
      const li = document.createElement("li");
      const swatch = text("span", "", "dot");
      swatch.style.background = b.color;
      li.append(swatch, text("span", b.name), text("b", String(b.n)));
      legend.append(li);
    }
    map.getContainer().dataset.cells = String(data.cells.length);
  }

  let timer = null;
  map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  select.addEventListener("change", load);
  document.getElementById("map-filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
