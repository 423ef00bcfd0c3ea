// The appeal's place on a map: the region's tiles when configured, otherwise the houses around it
// as dots; the appeal's point on top.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const map = L.map("appeal-map", { scrollWheelZoom: false }).setView([config.lat, config.lon], 16);
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
  } else {
    const renderer = L.canvas({ padding: 0.2 });
    for (const p of config.around) {
      L.circleMarker(p, { renderer: renderer, radius: 3, stroke: false, fillColor: "#9aa6b5", fillOpacity: 0.7, interactive: false }).addTo(map);
    }
  }
  L.circleMarker([config.lat, config.lon], { radius: 9, color: "#fff", weight: 2, fillColor: "#d32f2f", fillOpacity: 0.95 }).addTo(map);
  map.getContainer().dataset.ready = "1";
})();
