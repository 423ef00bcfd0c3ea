// The portal's filing form: topics suggested as one types, the place by an address from the register
// or a click on the map, the open appeals nearby shown before sending. Everything the server sends
// back is put in as text, except the nearby list, which is the server's own escaped HTML.
(function () {
  "use strict";
  const form = document.getElementById("appeal-form");
  if (!form) return;
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const text = form.querySelector("[name=text]");
  const address = form.querySelector("[name=address]");
  const building = form.querySelector("[name=building]");
  const lat = form.querySelector("[name=latitude]");
  const lon = form.querySelector("[name=longitude]");
  const seen = form.querySelector("[name=nearby_seen]");
  const options = document.getElementById("address-options");
  const topicBox = document.getElementById("topic-options");
  const ticket = document.getElementById("ticket-block");
  const placeStatus = document.getElementById("place-status");
  const nearbyBox = document.getElementById("nearby");
  const photos = form.querySelector("[name=photos]");

  function debounce(fn, ms) {
    let timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }
  function post(url, fields) {
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrf } });
  }
  function el(tag, value, cls) {
    const node = document.createElement(tag);
    if (value !== undefined) node.textContent = value;
    if (cls) node.className = cls;
    return node;
  }

  // ---- the map: tiles or the buildings as dots; a click marks the place
  const map = L.map("pick-map", { scrollWheelZoom: false, keyboard: true });
  if (config.extent) map.fitBounds(config.extent); else map.setView([config.view.lat, config.view.lon], config.view.zoom);
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution || "" }).addTo(map);
  } else if (config.backdrop) {
    fetch(config.backdrop, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
      const renderer = L.canvas({ padding: 0.2 });
      const layer = L.layerGroup(data.points.map((p) => L.circleMarker(p, { renderer: renderer, radius: 1.5, stroke: false, fillColor: "#9aa6b5", fillOpacity: 0.6, interactive: false })));
      layer.addTo(map);
    });
  }
  let marker = null;
  function mark(latitude, longitude, zoom) {
    if (marker) marker.setLatLng([latitude, longitude]);
    else marker = L.circleMarker([latitude, longitude], { radius: 9, color: "#fff", weight: 2, fillColor: "#d32f2f", fillOpacity: 0.95 }).addTo(map);
    if (zoom) map.setView([latitude, longitude], zoom);
  }
  if (lat.value && lon.value) mark(parseFloat(lat.value), parseFloat(lon.value), 16);
  map.on("click", (e) => {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    building.value = "";
    mark(e.latlng.lat, e.latlng.lng);
    placeStatus.textContent = `Место отмечено на карте: ${lat.value}, ${lon.value}`;
    changed();
  });
  map.getContainer().dataset.ready = "1";

  // ---- the topic: the model's three guesses, or the center decides
  function showTicket() {
    const chosen = topicBox.querySelector("input[name=topic]:checked");
    ticket.hidden = !(chosen && chosen.dataset.complaintBook === "1");
  }
  topicBox.addEventListener("change", showTicket);
  const suggestTopics = debounce(async () => {
    if (text.value.trim().split(/\s+/).length < 2) return;
    const response = await post(form.dataset.topicsUrl, { text: text.value.slice(0, 3000), building: building.value });
    if (!response.ok) return;
    const data = await response.json();
    const chosen = topicBox.querySelector("input[name=topic]:checked");
    const keep = chosen && chosen.value ? chosen.closest("label") : null;
    for (const label of Array.from(topicBox.querySelectorAll("label"))) {
      const input = label.querySelector("input");
      if (input.value && label !== keep) label.remove();
    }
    for (const topic of data.results) {
      if (keep && keep.querySelector("input").value === String(topic.id)) continue;
      const label = el("label", undefined, "choice");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "topic";
      input.value = topic.id;
      input.dataset.complaintBook = topic.complaint_book ? "1" : "0";
      label.append(input, " ", topic.name, " ", el("span", `(${topic.block})`, "muted-inline"));
      topicBox.append(label);
    }
    showTicket();
  }, 600);
  text.addEventListener("input", () => { suggestTopics(); changed(); });

  // ---- the address: a combobox over the building register
  let found = [];
  let active = -1;
  function closeList() {
    options.hidden = true;
    address.setAttribute("aria-expanded", "false");
    address.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function highlight(index) {
    const items = options.querySelectorAll("li");
    items.forEach((li, i) => li.setAttribute("aria-selected", i === index ? "true" : "false"));
    active = index;
    if (index >= 0) address.setAttribute("aria-activedescendant", items[index].id);
  }
  function choose(index) {
    const b = found[index];
    if (!b) return;
    address.value = b.address;
    building.value = b.id;
    if (b.lat !== null && b.lon !== null) {
      lat.value = b.lat;
      lon.value = b.lon;
      mark(b.lat, b.lon, 17);
    }
    placeStatus.textContent = `Выбран адрес: ${b.address}`;
    closeList();
    suggestTopics();
    changed();
  }
  const searchAddresses = debounce(async () => {
    const q = address.value.trim();
    if (q.length < 3) { closeList(); return; }
    const response = await fetch(`${form.dataset.addressesUrl}?q=${encodeURIComponent(q.slice(0, 200))}`, { credentials: "same-origin" });
    if (!response.ok) return;
    found = (await response.json()).results;
    options.replaceChildren();
    found.forEach((b, i) => {
      const li = el("li", b.address);
      li.id = `address-option-${i}`;
      li.setAttribute("role", "option");
      li.append(el("span", ` — ${b.territory}`, "muted-inline"));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      options.append(li);
    });
    options.hidden = found.length === 0;
    address.setAttribute("aria-expanded", found.length ? "true" : "false");
    active = -1;
  }, 300);
  address.addEventListener("input", () => { building.value = ""; searchAddresses(); });
  address.addEventListener("keydown", (e) => {
    if (options.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, found.length - 1)); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(active); }
    else if (e.key === "Escape") { closeList(); }
  });
  address.addEventListener("blur", () => setTimeout(closeList, 150));

  // ---- open appeals nearby, shown before sending
  const checkNearby = debounce(async () => {
    if (!lat.value || text.value.trim().length < 10) return;
    const asked = `${text.value}|${lat.value}|${lon.value}`;
    const response = await post(form.dataset.nearbyUrl, { text: text.value.slice(0, 4000), latitude: lat.value, longitude: lon.value, building: building.value });
    if (!response.ok) return;
    nearbyBox.innerHTML = await response.text();
    // seen only if nothing changed while the answer was on its way
    if (asked === `${text.value}|${lat.value}|${lon.value}`) seen.value = "1";
  }, 700);
  function changed() { seen.value = ""; checkNearby(); }

  // ---- photos: the count checked before the upload
  if (photos) {
    const limit = parseInt(photos.dataset.limit, 10);
    photos.addEventListener("change", () => {
      photos.setCustomValidity(photos.files.length > limit ? `Не больше ${limit} фото.` : "");
      photos.reportValidity();
    });
  }
  showTicket();
})();
