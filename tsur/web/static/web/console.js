// The console's list: «отметить все» ticks every appeal on the page; the bulk form's operations each
// answer Enter with their own button (not the form's first one); the main appeal of a merge is
// offered among the ticked ones.
(function () {
  "use strict";
  function ticked() {
    return Array.from(document.querySelectorAll("input[name=numbers]:checked"), (box) => box.value);
  }
  function offerTicked() {
    const list = document.getElementById("bulk-numbers");
    if (!list) return;
    const numbers = ticked();
    const all = Array.from(document.querySelectorAll("input[name=numbers]"), (box) => box.value);
    list.replaceChildren(
      ...(numbers.length ? numbers : all).map((number) => {
        const option = document.createElement("option");
        option.value = number;
        return option;
      })
    );
  }
  document.addEventListener("change", function (event) {
    if (event.target.id === "check-all") {
      for (const box of document.querySelectorAll("input[name=numbers]")) box.checked = event.target.checked;
    }
    if (event.target.id === "check-all" || event.target.name === "numbers") offerTicked();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
    const operation = event.target.closest("fieldset.bulk-op");
    if (!operation) return;
    event.preventDefault();
    operation.querySelector("button").click();
  });
})();
