// The console's list: «отметить все» ticks every appeal on the page for the bulk assignment.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    if (event.target.id !== "check-all") return;
    for (const box of document.querySelectorAll("input[name=numbers]")) box.checked = event.target.checked;
  });
})();
