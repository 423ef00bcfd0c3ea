// The moderator's queue: one key per decision. ↑/↓ or j/k choose a post; 1–5 press the button with
// that key in the chosen post's form (complaint, question, thanks, other, abuse). Keys typed into a
// field are left alone.
(function () {
  "use strict";
  function posts() {
    return Array.from(document.querySelectorAll("#social-queue .social-post"));
  }
  function current() {
    return document.querySelector("#social-queue .social-post.selected") || posts()[0] || null;
  }
  function select(post) {
    if (!post) return;
    for (const other of posts()) other.classList.toggle("selected", other === post);
    post.focus({ preventScroll: true });
    post.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("click", function (event) {
    const post = event.target.closest("#social-queue .social-post");
    if (post && event.target.tagName !== "BUTTON" && event.target.tagName !== "A") select(post);
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName)) return;
    const post = current();
    if (!post) return;
    const list = posts();
    const at = list.indexOf(post);
    if (event.key === "ArrowDown" || event.key === "j") {
      event.preventDefault();
      select(list[Math.min(list.length - 1, at + 1)]);
      return;
    }
    if (event.key === "ArrowUp" || event.key === "k") {
      event.preventDefault();
      select(list[Math.max(0, at - 1)]);
      return;
    }
    const button = post.querySelector('button[data-key="' + event.key + '"]');
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
