/* Timers: every element with data-since (ISO time) shows how long ago that was, updated each second;
   with data-due (ISO time) it shows the time left to a response target, or how long it is overdue. */
(function () {
  "use strict";
  function minutes(ms) {
    var total = Math.floor(Math.abs(ms) / 60000);
    return total >= 60 ? Math.floor(total / 60) + " h " + (total % 60) + " min" : total + " min";
  }
  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("[data-since]"), function (el) {
      el.textContent = minutes(now - Date.parse(el.getAttribute("data-since")));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-due]"), function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      el.textContent = left >= 0 ? "due in " + minutes(left) : "overdue by " + minutes(left);
      var row = el.closest("tr") || el.parentNode;
      if (row) { row.classList.toggle("overdue", left < 0); }
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
