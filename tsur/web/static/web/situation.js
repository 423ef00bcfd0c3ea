// The wall screen: polls data.json every few seconds with the ETag it was given (304: nothing to
// redraw), draws the counters, the lists and the map's hexagons; every figure is a link to its
// appeals. Names come from the server as data and are written as text, never parsed as HTML.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("wall-config").textContent);
  const L_ = JSON.parse(document.getElementById("wall-labels").textContent);
  const mapEl = document.getElementById("map");
  const map = L.map(mapEl, { zoomControl: true, attributionControl: !!config.tiles, preferCanvas: false });
  const view = config.view || { lat: 59.93, lon: 30.31, zoom: 11 };
  if (config.extent) map.fitBounds(config.extent, { padding: [10, 10] });
  else map.setView([view.lat, view.lon], view.zoom);
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution || "" }).addTo(map);
  } else {
    const renderer = L.canvas({ padding: 0.2 });
    fetch(config.backdrop, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
      const layer = L.layerGroup(data.points.map((p) => L.circleMarker(p, { renderer, radius: 1.2, stroke: false, fillColor: "#56677d", fillOpacity: 0.55, interactive: false })));
      layer.addTo(map);
      layer.eachLayer((m) => m.bringToBack());
    }).catch(() => {});
  }
  const hexLayer = L.layerGroup().addTo(map);
  let mode = "block";
  let etag = "";
  let last = null;
  let busy = false;

  function resolution() {
    const z = map.getZoom();
    if (z <= 10) return 6;
    if (z <= 11) return 7;
    if (z <= 13) return 8;
    return 9;
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function fmt(n) {
    return Number(n).toLocaleString("ru-RU");
  }

  function shareColor(share) {
    // green → yellow → red as the share of overdue appeals grows
    const stops = [[0, [46, 157, 91]], [0.5, [242, 197, 17]], [1, [255, 90, 79]]];
    let i = 0;
    while (i < stops.length - 2 && share > stops[i + 1][0]) i++;
    const [a, ca] = stops[i], [b, cb] = stops[i + 1];
    const t = Math.min(1, Math.max(0, (share - a) / (b - a)));
    const c = ca.map((v, k) => Math.round(v + (cb[k] - v) * t));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  function drawCounters(counters) {
    for (const c of counters) {
      const link = document.querySelector(`[data-counter="${c.key}"]`);
      if (!link) continue;
      const number = link.querySelector("b");
      const shown = fmt(c.value);
      if (number.textContent !== shown && number.textContent !== "—") {
        link.classList.remove("changed");
        void link.offsetWidth;
        link.classList.add("changed");
      }
      number.textContent = shown;
      link.dataset.value = c.value;
      link.href = c.link;
    }
  }

  function drawList(id, rows, build) {
    const list = document.getElementById(id);
    list.replaceChildren(...rows.map((row) => {
      const item = document.createElement("li");
      item.append(build(row));
      return item;
    }));
    const none = document.getElementById("no-" + id);
    if (none) none.hidden = rows.length > 0;
  }

  function linkRow(row, name, sub, swatch) {
    const a = el("a");
    a.href = row.link;
    a.dataset.value = row.value;
    const title = el("span", null, "name");
    if (swatch) { const s = el("i", null, "swatch"); s.style.background = swatch; title.append(s); }
    title.append(name);
    a.append(title, el("span", fmt(row.value), "value"));
    if (sub) a.append(el("span", sub, "sub"));
    return a;
  }

  function drawLegend(data) {
    const legend = document.getElementById("legend");
    legend.replaceChildren();
    if (mode === "overdue") {
      legend.append(el("li", L_.share));
      const scale = el("li"); scale.append(el("div", null, "scale")); legend.append(scale);
      const ends = el("li", null, "ends"); ends.append(el("span", L_.low), el("span", L_.high)); legend.append(ends);
      return;
    }
    const used = new Set(data.cells.map((c) => c.block));
    data.blocks.forEach((b, i) => {
      if (!used.has(i)) return;
      const item = el("li"); const sw = el("i"); sw.style.background = b.color; item.append(sw, b.name); legend.append(item);
    });
  }

  function drawCells(data) {
    hexLayer.clearLayers();
    let total = 0;
    for (const c of data.cells) {
      total += c.n;
      const share = c.n ? c.overdue / c.n : 0;
      const block = data.blocks[c.block];
      const color = mode === "overdue" ? shareColor(share) : (block ? block.color : "#8a94a3");
      const polygon = L.polygon(c.outline, { color, weight: 1, opacity: 0.9, fillColor: color, fillOpacity: 0.25 + 0.5 * Math.min(1, Math.log10(1 + c.n) / 2), className: "hex" });
      const tip = el("div");
      tip.append(el("b", `${fmt(c.n)} ${L_.appeals}`), el("br"), `${L_.overdue}: ${fmt(c.overdue)}`);
      if (block) tip.append(el("br"), block.name);
      polygon.bindTooltip(tip, { className: "hex-tip", sticky: true });
      polygon.on("click", () => { window.location.href = c.link; });
      hexLayer.addLayer(polygon);
    }
    mapEl.dataset.cells = data.cells.length;
    mapEl.dataset.appeals = total;
    drawLegend(data);
  }

  function draw(data) {
    drawCounters(data.counters);
    drawList("rising", data.rising, (r) => linkRow(r, r.topic, `${r.block} · ${L_.expected} ≈ ${String(r.base).replace(".", ",")}`, r.color));
    drawList("signals", data.signals, (s) => linkRow(s, `${s.topic} — ${s.territory}`, `${L_.expected} ≈ ${String(s.expected).replace(".", ",")} · p ${s.p_value} · ${s.window_end}${s.outage ? " · " + L_.outage + ": " + s.outage : ""}`));
    drawList("organisations", data.organisations, (o) => linkRow(o, o.organisation));
    drawList("outages", data.outages, (o) => linkRow(o, o.object, `${o.services} · ${L_.since} ${o.since}`));
    drawList("alarms", data.alarms, (a) => {
      const row = el("div", null, "row");
      row.append(el("span", `${a.object}: ${a.rule}`, "name"), el("span", a.severity_label, "value"), el("span", `${L_.since} ${a.since}`, "sub"));
      return row;
    });
    for (const item of document.querySelectorAll("#alarms li")) item.className = "";
    data.alarms.forEach((a, i) => { document.querySelectorAll("#alarms li")[i].className = "sev-" + a.severity; });
    document.getElementById("outage-count").textContent = data.outage_count;
    document.getElementById("alarm-count").textContent = data.alarm_count;
    document.getElementById("no-dispatch").hidden = data.outages.length + data.alarms.length > 0;
    drawCells(data);
  }

  function tick() {
    document.getElementById("clock").textContent = new Date().toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    const b = map.getBounds();
    const params = new URLSearchParams({ res: resolution(), bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(4)).join(",") });
    const live = document.getElementById("live");
    try {
      const response = await fetch(`${config.data}?${params}`, { credentials: "same-origin", cache: "no-store", headers: etag ? { "If-None-Match": etag } : {} });
      if (response.status !== 304) {
        if (!response.ok) throw new Error(response.statusText);
        last = await response.json();
        etag = response.headers.get("ETag") || "";
        draw(last);
      }
      live.classList.remove("stale");
      document.getElementById("updated").textContent = `${L_.updated} ${new Date().toLocaleTimeString("ru-RU")}`;
    } catch (error) {
      live.classList.add("stale");
      document.getElementById("updated").textContent = L_.failed;
    } finally {
      busy = false;
    }
  }

  for (const button of document.querySelectorAll("button.mode")) {
    button.addEventListener("click", () => {
      mode = button.dataset.mode;
      for (const other of document.querySelectorAll("button.mode")) other.setAttribute("aria-pressed", String(other === button));
      if (last) drawCells(last);
    });
  }
  map.on("moveend", () => { etag = ""; refresh(); });
  tick();
  setInterval(tick, 1000);
  refresh();
  setInterval(refresh, config.poll_ms || 2000);
})();
