// The dispatcher's board: polls the state every few seconds, draws the objects on the map and the
// alarms and outages beside it; acknowledge and clear are POSTs with the CSRF token.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("board-config").textContent);
  const L_ = config.labels;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const colors = { critical: "#d32f2f", warning: "#f29c11", acknowledged: "#3f6fd8", silent: "#8a94a3", ok: "#2e9d5b", unknown: "#b8c0cc" };
  const map = L.map("map", { zoomControl: true }).setView([59.93, 30.31], 11);
  const backdropRenderer = L.canvas({ padding: 0.2 });
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
  } else {
    fetch(config.backdrop, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
      const layer = L.layerGroup(data.points.map((p) => L.circleMarker(p, { renderer: backdropRenderer, radius: 1.5, stroke: false, fillColor: "#9aa6b5", fillOpacity: 0.6, interactive: false })));
      layer.addTo(map);
      layer.eachLayer((m) => m.bringToBack());
    });
  }
  const markers = new Map();
  let fitted = false;

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function drawObjects(objects) {
    const seen = new Set();
    const bounds = [];
    for (const o of objects) {
      if (o.lat === null || o.lon === null) continue;
      seen.add(o.id);
      bounds.push([o.lat, o.lon]);
      const style = { radius: o.state === "ok" ? 5 : 8, color: "#fff", weight: 1, fillColor: colors[o.state], fillOpacity: 0.95 };
      let marker = markers.get(o.id);
      if (!marker) {
        marker = L.circleMarker([o.lat, o.lon], style).addTo(map);
        markers.set(o.id, marker);
      } else {
        marker.setStyle(style);
      }
      if (o.state !== "ok") marker.bringToFront();
      // names and addresses are data: built as text nodes, never parsed as HTML
      const tip = document.createElement("div");
      tip.append(text("b", o.name), o.address ? ` — ${o.address}` : "", document.createElement("br"), `${L_.lastSeen}: ${o.last_seen || "—"}`);
      marker.bindTooltip(tip);
    }
    for (const [id, marker] of markers) if (!seen.has(id)) { marker.remove(); markers.delete(id); }
    map.getContainer().dataset.markers = markers.size;
    if (!fitted && bounds.length) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 }); fitted = true; }
  }

  async function act(url, button) {
    button.disabled = true;
    const response = await fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf, Accept: "application/json" } });
    if (!response.ok) { const body = await response.json().catch(() => ({})); alert(body.detail || response.statusText); }
    refresh();
  }

  function drawAlarms(alarms) {
    const body = document.querySelector("#alarms tbody");
    body.replaceChildren();
    for (const a of alarms) {
      const row = document.createElement("tr");
      row.className = "sev-" + a.severity;
      row.dataset.alarm = a.id;
      row.append(text("td", a.object), text("td", a.rule), text("td", a.value), text("td", a.raised_at));
      const state = text("td", "");
      state.append(text("span", a.state_label, "pill " + a.state));
      if (a.back_to_normal) state.append(" ", text("span", L_.normal, "pill ended"));
      row.append(state);
      if (config.canAct) {
        const cell = document.createElement("td");
        const button = text("button", a.state === "active" ? L_.ack : L_.clear, "small");
        const verb = a.state === "active" ? "acknowledge" : "clear";
        button.addEventListener("click", () => act(`alarms/${a.id}/${verb}/`, button));
        cell.append(button);
        row.append(cell);
      }
      row.addEventListener("mouseenter", () => { const m = markers.get(a.object_id); if (m) m.openTooltip(); });
      body.append(row);
    }
    document.getElementById("alarm-count").textContent = alarms.length;
    document.getElementById("no-alarms").hidden = alarms.length > 0;
  }

  function drawOutages(outages) {
    const body = document.querySelector("#outages tbody");
    body.replaceChildren();
    for (const o of outages) {
      const row = document.createElement("tr");
      const name = document.createElement("td");
      const link = text("a", o.object);
      link.href = `outages/${o.id}/`;
      name.append(link);
      row.append(name, text("td", o.services), text("td", o.started_at), text("td", o.buildings), text("td", o.appeals));
      body.append(row);
    }
    document.getElementById("outage-count").textContent = outages.length;
    document.getElementById("no-outages").hidden = outages.length > 0;
  }

  async function refresh() {
    try {
      const response = await fetch(config.state, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.statusText);
      const data = await response.json();
      drawObjects(data.objects);
      drawAlarms(data.alarms);
      drawOutages(data.outages);
      for (const el of document.querySelectorAll("[data-count]")) el.textContent = data.counts[el.dataset.count] || 0;
      document.getElementById("updated").textContent = `${L_.updated} ${data.now}`;
    } catch (error) {
      document.getElementById("updated").textContent = L_.failed;
    }
  }
  refresh();
  setInterval(refresh, 5000);
})();
