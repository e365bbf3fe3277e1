// Small helpers; every page works without them.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
document.querySelectorAll("[data-repeat]").forEach(function (box) {
  var button = document.createElement("button");
  button.type = "button";
  button.className = "secondary small";
  button.textContent = document.documentElement.lang === "en" ? "Add a row" : "Thêm dòng";
  button.addEventListener("click", function () {
    var rows = box.querySelectorAll(".repeat-row");
    var copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    copy.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    box.appendChild(copy);
  });
  box.after(button);
});
