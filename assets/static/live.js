// Keeps the day's pages current from the live stream (Server-Sent Events). The pages work
// without it: the projector then reloads itself, the others show what they had.
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root) return;
  var id = root.getAttribute("data-live");
  var projector = document.body.hasAttribute("data-projector");

  function setVotes(votes) {
    Object.keys(votes).forEach(function (q) {
      document.querySelectorAll('[data-votes="' + q + '"]').forEach(function (el) {
        el.textContent = votes[q];
      });
    });
  }

  function text(tag, className, value) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = value;
    return el;
  }

  var labels = {};
  var labelsElement = document.getElementById("topic-labels");
  if (labelsElement) {
    labelsElement.querySelectorAll("li").forEach(function (li) {
      labels[li.getAttribute("data-code")] = li.textContent;
    });
  }

  function votesBadge(q) {
    var b = text("b", "", String(q.votes));
    b.setAttribute("data-votes", q.id);
    return b;
  }

  // The projector draws itself again from the current state.
  function drawProjector(state) {
    var current = document.getElementById("projector-current");
    var next = document.getElementById("projector-next");
    current.replaceChildren();
    if (state.current) {
      var q = state.current;
      current.appendChild(text("p", "projector-topic", labels[q.topic] || q.topic));
      current.appendChild(text("p", "projector-question", q.body));
      var meta = text("p", "projector-meta", q.asker ? q.asker + " " : "");
      meta.appendChild(votesBadge(q));
      meta.appendChild(document.createTextNode(" " + document.body.getAttribute("data-votes-label")));
      current.appendChild(meta);
    } else {
      current.appendChild(text("p", "projector-question muted", document.body.getAttribute("data-nothing")));
    }
    next.replaceChildren();
    state.next.forEach(function (q) {
      var li = document.createElement("li");
      li.appendChild(text("span", "projector-next-body", q.body + " "));
      li.appendChild(votesBadge(q));
      next.appendChild(li);
    });
  }

  function refreshProjector() {
    fetch("/api/v1/dialogues/" + id + "/live", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) { if (state) drawProjector(state); })
      .catch(function () {});
  }

  // Other pages: a line saying what is on screen now, and a link when there is news.
  function showNotice(elementId, message, withReload) {
    if (!message) return;
    var el = document.getElementById(elementId);
    if (!el) {
      el = document.createElement("p");
      el.id = elementId;
      el.className = "notice live-notice";
      el.setAttribute("role", "status");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(el, main.firstChild);
    }
    el.textContent = message + " ";
    if (withReload) {
      var a = text("a", "", root.getAttribute("data-reload-label") || "↻");
      a.href = window.location.pathname + window.location.search;
      el.appendChild(a);
    }
  }

  // A page that lists questions names them, so that every change of their counts reaches
  // it; the projector's questions change as it redraws, so it takes the stream's default
  // (the question on screen and the top of the queue first).
  function streamUrl() {
    var url = "/api/v1/dialogues/" + id + "/live/events";
    if (projector) return url;
    var shown = [];
    document.querySelectorAll("[data-votes]").forEach(function (el) {
      var q = el.getAttribute("data-votes");
      if (shown.indexOf(q) < 0 && shown.length < 100) shown.push(q);
    });
    return shown.length ? url + "?votes=" + shown.join(",") : url;
  }

  if (window.EventSource) {
    var source = new EventSource(streamUrl());
    var started = false;
    source.addEventListener("votes", function (e) { setVotes(JSON.parse(e.data).votes); });
    source.addEventListener("current_question", function (e) {
      var first = !started;
      started = true;
      if (projector) { if (!first) refreshProjector(); return; }
      var q = JSON.parse(e.data).question;
      if (q) showNotice("live-now-line", (root.getAttribute("data-now-label") || "") + " " + q.body, false);
    });
    ["question_approved", "answer"].forEach(function (kind) {
      source.addEventListener(kind, function () {
        if (projector) refreshProjector();
        else showNotice("live-news", root.getAttribute("data-news-label"), true);
      });
    });
  }

  // The organizer's speaking timer.
  var timer = document.getElementById("speaking-timer");
  if (timer) {
    timer.hidden = false;
    var output = timer.querySelector(".timer-value");
    var startedAt = null, elapsed = 0, tick = null;
    function show() {
      var total = Math.floor((elapsed + (startedAt ? Date.now() - startedAt : 0)) / 1000);
      output.textContent = Math.floor(total / 60) + ":" + String(total % 60).padStart(2, "0");
    }
    timer.addEventListener("click", function (e) {
      var action = e.target.getAttribute("data-timer");
      if (action === "start" && !startedAt) { startedAt = Date.now(); tick = setInterval(show, 250); }
      if (action === "stop" && startedAt) { elapsed += Date.now() - startedAt; startedAt = null; clearInterval(tick); }
      if (action === "reset") { elapsed = 0; if (startedAt) startedAt = Date.now(); }
      show();
    });
  }
})();
