// The hotline's form while the operator types: addresses from the building register (a combobox:
// arrows, Enter, Escape), up to three topics the text model reads in the text (a click picks one),
// and the similar open appeals at the place, redrawn by htmx a moment after the typing stops.
(function () {
  "use strict";
  const form = document.getElementById("hotline");
  if (!form) return;
  const text = form.querySelector("[name=text]");
  const address = form.querySelector("[name=address]");
  const building = form.querySelector("[name=building]");
  const hint = document.getElementById("address-hint");
  const options = document.getElementById("address-options");
  const topic = form.querySelector("[name=topic]");
  const suggested = document.getElementById("topic-suggestions");
  const similar = document.getElementById("similar");
  const token = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let found = [];
  let active = -1;

  function later(wait, work) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(work, wait);
    };
  }

  function checkSimilar() {
    if (window.htmx && similar) window.htmx.trigger(similar, "tsur:check");
  }

  // ---- the address
  function close() {
    options.hidden = true;
    address.setAttribute("aria-expanded", "false");
    address.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function show(results) {
    found = results;
    options.replaceChildren();
    results.forEach(function (item, i) {
      const option = document.createElement("li");
      option.id = "address-option-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = item.address + (item.territory ? " — " + item.territory : "");
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(i);
      });
      options.appendChild(option);
    });
    if (results.length) {
      options.hidden = false;
      address.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
  }

  function highlight(i) {
    const items = options.querySelectorAll("[role=option]");
    if (!items.length) return;
    active = (i + items.length) % items.length;
    items.forEach(function (item, n) {
      item.setAttribute("aria-selected", n === active ? "true" : "false");
    });
    address.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function choose(i) {
    const item = found[i];
    if (!item) return;
    address.value = item.address;
    building.value = item.id;
    hint.textContent = hint.dataset.chosen;
    close();
    askTopics();
    checkSimilar();
  }

  const askAddresses = later(250, function () {
    const query = address.value.trim();
    if (query.length < 3) return close();
    fetch(form.dataset.addresses + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : { results: [] }))
      .then((body) => show(body.results || []))
      .catch(close);
  });

  address.addEventListener("input", function () {
    building.value = ""; // typed by hand: no longer the building picked
    askAddresses();
  });
  address.addEventListener("keydown", function (event) {
    if (options.hidden) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      close();
    }
  });
  address.addEventListener("blur", close);

  // ---- the topic
  function offer(results) {
    suggested.replaceChildren();
    results.forEach(function (item) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small secondary";
      button.dataset.code = item.code;
      button.setAttribute("aria-pressed", topic.value === item.code ? "true" : "false");
      button.textContent = item.name + " · " + Math.round(item.probability * 100) + "%";
      button.addEventListener("click", function () {
        const again = topic.value === item.code;
        topic.value = again ? "" : item.code;
        for (const other of suggested.querySelectorAll("button")) {
          other.setAttribute("aria-pressed", !again && other === button ? "true" : "false");
        }
        checkSimilar();
      });
      suggested.appendChild(button);
    });
  }

  const askTopics = later(600, function () {
    const body = new URLSearchParams({ text: text.value, building: building.value });
    fetch(form.dataset.topics, {
      method: "POST",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
      body: body,
    })
      .then((response) => (response.ok ? response.json() : { results: [] }))
      .then((answer) => offer(answer.results || []))
      .catch(function () {});
  });
  const similarLater = later(800, checkSimilar);

  text.addEventListener("input", function () {
    askTopics();
    similarLater();
  });
  topic.addEventListener("change", function () {
    for (const button of suggested.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", button.dataset.code === topic.value ? "true" : "false");
    }
  });
})();
