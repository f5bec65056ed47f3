/* The live chat page: new messages of the conversation appear without a reload (polls the JSON API). */
(function () {
  "use strict";
  var log = document.getElementById("live-log");
  if (!log) { return; }
  var after = parseInt(log.getAttribute("data-after"), 10) || 0;
  var state = log.getAttribute("data-state");

  function add(item) {
    var li = document.createElement("li");
    li.className = "live-" + item.type + (item.staff_name ? " live-staff" : "") + (item.red_flag_level ? " red-flag" : "");
    li.setAttribute("data-id", item.id);
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = item.type === "user" ? "Visitor" : (item.staff_name ? item.staff_name + " (staff)" : "Assistant");
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = item.text;  // never innerHTML: visitors' words are untrusted
    li.appendChild(who);
    li.appendChild(text);
    log.appendChild(li);
  }

  function poll() {
    fetch(log.getAttribute("data-url") + "?after=" + after, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.items.forEach(function (item) { add(item); after = Math.max(after, item.id); });
        if (data.state !== state || data.red_flag_alert) {
          var banner = document.getElementById("handoff-state");
          if (data.red_flag_alert && banner && !banner.classList.contains("red-flag")) {
            banner.classList.add("red-flag");
            banner.appendChild(document.createTextNode(" A red flag arrived: the visitor got the urgent advice."));
          }
        }
      })
      .catch(function () { /* the next poll retries */ })
      .then(function () { window.setTimeout(poll, 1500); });
  }
  window.setTimeout(poll, 1500);
})();
