// Keyboard shortcuts on the moderation page, listed on the page once this file runs:
// j/k move between questions, a approves, r opens the reason to leave one out, e the
// wording, m the merge choices (similar questions only), Esc leaves a field. Every action
// is an ordinary form of the page, so without this file nothing is lost.
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll("ol.questions > li.question"));
  var help = document.getElementById("shortcuts");
  if (!cards.length) { return; }
  if (help) { help.hidden = false; }
  var current = -1;

  function select(index) {
    if (index < 0 || index >= cards.length) { return; }
    if (current >= 0) { cards[current].classList.remove("current"); }
    current = index;
    cards[current].classList.add("current");
    cards[current].focus();
    cards[current].scrollIntoView({ block: "nearest" });
  }

  // Opens the card's folded form for `name` and puts the cursor in its first field.
  function unfold(name, field) {
    var box = cards[current].querySelector("details[data-shortcut='" + name + "']");
    if (!box) { return false; }
    box.open = true;
    var input = box.querySelector(field);
    if (input) { input.focus(); }
    return true;
  }

  // A click keeps the selection where the moderator is working.
  cards.forEach(function (card, index) {
    card.addEventListener("click", function () {
      if (current !== index) {
        if (current >= 0) { cards[current].classList.remove("current"); }
        current = index;
        card.classList.add("current");
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      // Typing (Vietnamese included) is never taken for a shortcut; Esc leaves the field.
      if (event.key === "Escape" && current >= 0) {
        target.blur();
        cards[current].focus();
        event.preventDefault();
      }
      return;
    }
    var done = true;
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current <= 0 ? 0 : current - 1); break;
      case "a":
        var approve = current >= 0 && cards[current].querySelector("button[name=action][value=approve]");
        if (approve) { approve.click(); } else { done = false; }
        break;
      case "r": done = current >= 0 && unfold("reject", "textarea"); break;
      case "e": done = current >= 0 && unfold("edit", "textarea"); break;
      case "m": done = current >= 0 && unfold("merge", "input[type=radio]"); break;
      default: done = false;
    }
    if (done) { event.preventDefault(); }
  });
})();
