// Escalation queue: re-read the JSON endpoint every 5 s and redraw the table.
// Everything from the server is written with textContent (never as HTML): it is user text.
(function () {
  "use strict";
  var table = document.getElementById("escalations");
  if (!table) { return; }
  var tbody = table.querySelector("tbody");
  var statusLine = document.getElementById("poll-status");
  var api = table.getAttribute("data-api");
  var INTERVAL_MS = 5000;

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text == null ? "" : String(text);
    row.appendChild(td);
    return td;
  }

  function badge(td, text, className) {
    td.textContent = "";
    var span = document.createElement("span");
    span.className = "badge " + className;
    span.textContent = text;
    td.appendChild(span);
  }

  function link(td, href, text, className) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (className) { a.className = className; }
    td.appendChild(a);
  }

  function when(iso) {
    return iso ? iso.replace("T", " ").slice(0, 16) : "";
  }

  function render(data) {
    var rows = document.createDocumentFragment();
    data.escalations.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-id", e.id);
      cell(tr, e.id);
      cell(tr, when(e.created_at));
      badge(cell(tr, ""), e.level, "level-" + e.level);
      cell(tr, e.flags);
      cell(tr, e.message, "preview");
      cell(tr, [e.contact_name, e.contact_details].filter(Boolean).join(" "));
      badge(cell(tr, ""), e.status, "status-" + e.status);
      cell(tr, e.assignee);
      cell(tr, e.notes, "preview");
      var target = cell(tr, "");
      if (e.status === "open" && e.due_at) {  // response target; timers.js counts it down each second
        var timer = document.createElement("span");
        timer.className = "timer";
        timer.setAttribute("data-due", e.due_at);
        timer.textContent = e.overdue ? "overdue" : "due";
        target.appendChild(timer);
        if (e.overdue) { tr.classList.add("overdue"); }
      }
      var actions = cell(tr, "");
      link(actions, e.transcript_url, "transcript", "transcript-link");
      actions.appendChild(document.createTextNode(" · "));
      link(actions, e.edit_url, "manage");
      rows.appendChild(tr);
    });
    if (!data.escalations.length) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var td = cell(empty, "No escalations.", "muted");
      td.colSpan = 11;
      rows.appendChild(empty);
    }
    tbody.textContent = "";
    tbody.appendChild(rows);
    Object.keys(data.counts || {}).forEach(function (status) {
      var counter = document.querySelector('[data-count="' + status + '"]');
      if (counter) { counter.textContent = data.counts[status]; }
    });
    statusLine.textContent = "Updated " + new Date().toLocaleTimeString() + " (every 5 seconds).";
  }

  function poll() {
    fetch(api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(render)
      .catch(function (error) { statusLine.textContent = "Could not update: " + error.message; })
      .finally(function () { window.setTimeout(poll, INTERVAL_MS); });
  }

  window.setTimeout(poll, INTERVAL_MS);
  // a new urgent escalation pushed by the alert stream (alerts.js): redraw now rather than at the next poll
  document.addEventListener("clinic:escalation", function () { window.setTimeout(poll, 0); });
}());
