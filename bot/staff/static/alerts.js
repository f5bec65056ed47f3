/* Escalation alerts on every console page: a new emergency or same-day escalation raises a desktop
   notification (once the browser grants permission), a sound, and a banner, without a reload. The server
   pushes them as server-sent events (/staff/api/alerts/stream); EventSource reconnects by itself. */
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var body = document.body;
  var url = body.getAttribute("data-alerts-url");
  if (!url) { return; }
  var banner = document.getElementById("alert-banner");
  var enable = document.getElementById("enable-alerts");
  var audio = null;

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach(function (offset) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.frequency.value = 880;
        gain.gain.value = 0.2;
        oscillator.connect(gain);
        gain.connect(audio.destination);
        oscillator.start(audio.currentTime + offset);
        oscillator.stop(audio.currentTime + offset + 0.25);
      });
    } catch (error) { /* no audio device: the banner and notification remain */ }
  }

  function show(alert) {
    var label = alert.level === "emergency" ? "EMERGENCY" : "Same-day";
    if (banner) {
      var link = document.createElement("a");
      link.href = alert.url;
      link.className = "alert alert-" + alert.level;
      link.setAttribute("data-escalation", alert.id);
      link.textContent = label + " escalation #" + alert.id + " (" + alert.flags + ") — respond by " +
        new Date(alert.due_at).toLocaleTimeString();
      banner.appendChild(link);
      banner.hidden = false;
    }
    beep();
    if (window.Notification && Notification.permission === "granted") {
      var note = new Notification(label + " escalation #" + alert.id, {
        body: "Flags: " + alert.flags + ". Respond by " + new Date(alert.due_at).toLocaleTimeString() + ".",
        tag: "escalation-" + alert.id, requireInteraction: alert.level === "emergency" });
      note.onclick = function () { window.focus(); window.location.href = alert.url; };
    }
    document.dispatchEvent(new CustomEvent("clinic:escalation", { detail: alert }));
  }

  if (enable && window.Notification) {
    enable.hidden = Notification.permission === "granted";
    enable.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) { enable.hidden = permission === "granted"; });
      beep();  // a user gesture also unlocks sound in the browser
    });
  }

  var source = new EventSource(url);
  source.addEventListener("escalation", function (event) {
    try { show(JSON.parse(event.data)); } catch (error) { /* a malformed event is skipped */ }
  });
  source.addEventListener("ready", function () { body.setAttribute("data-alerts", "connected"); });
})();
