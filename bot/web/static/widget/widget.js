/* The clinic's chat widget: a small socket.io client for Rasa's socketio channel (bot/channels/socketio.py).
 *
 * - Session persistence: the session_id Rasa confirms is kept in localStorage with the transcript, so a
 *   reload shows the conversation and continues it on the server (same sender id, same tracker).
 * - Bot messages arrive whole: {text, quick_replies, metadata: {grounding, triage, ...}}. The "Sources:"
 *   line and the "Where the sources differ:" note are rendered apart from the answer; red-flag advice
 *   (metadata.triage) is shown as a highlighted alert.
 * - Everything is built with DOM methods and textContent: no message text is ever parsed as HTML.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var root = document.getElementById("clinic-chat");
  var panel = root.querySelector(".chat__panel");
  var launcher = root.querySelector(".chat__launcher");
  var closeButton = root.querySelector(".chat__close");
  var restartButton = root.querySelector(".chat__restart");
  var log = root.querySelector(".chat__log");
  var form = root.querySelector(".chat__form");
  var input = root.querySelector(".chat__input");
  var statusLine = root.querySelector(".chat__status");
  var typing = root.querySelector(".chat__typing");
  var STORAGE_KEY = config.storageKey || "clinic-chat";
  var URGENT_TITLES = {
    emergency: "Emergency – act now",
    same_day: "Urgent – get seen today",
    soon: "Please book an assessment soon"
  };

  // ---- state kept across reloads -------------------------------------------------------------------
  function loadState() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) { return saved; }
    } catch (error) { /* unreadable storage: start afresh */ }
    return { sessionId: null, messages: [], open: false };
  }
  var state = loadState();
  function saveState() {
    try { window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (error) { /* full or blocked */ }
  }

  // ---- rendering ---------------------------------------------------------------------------------------
  var URL_PATTERN = /(https?:\/\/[^\s)]+)/g;

  function appendText(parent, text) {
    // Text with line breaks and clickable links, without innerHTML.
    var lines = String(text).split("\n");
    lines.forEach(function (line, index) {
      if (index > 0) { parent.appendChild(document.createElement("br")); }
      var last = 0;
      line.replace(URL_PATTERN, function (url, _group, offset) {
        parent.appendChild(document.createTextNode(line.slice(last, offset)));
        var link = document.createElement("a");
        link.href = url; link.textContent = url; link.target = "_blank"; link.rel = "noopener noreferrer";
        parent.appendChild(link);
        last = offset + url.length;
        return url;
      });
      parent.appendChild(document.createTextNode(line.slice(last)));
    });
  }

  function parseSources(line, grounding) {
    // Prefer the structured grounding metadata; fall back to the text 'Sources: Publisher, "Title"; ...'.
    if (grounding && Array.isArray(grounding.sources) && grounding.sources.length) {
      return grounding.sources.map(function (s) {
        return { publisher: s.publisher || "", title: s.title || "", url: s.url || null };
      });
    }
    return line.replace(/^Sources:\s*/, "").split(/;\s*/).filter(Boolean).map(function (item) {
      var match = item.match(/^(.*?),\s*"(.*)"\s*$/);
      return match ? { publisher: match[1], title: match[2], url: null } : { publisher: "", title: item, url: null };
    });
  }

  function renderSources(parent, line, grounding) {
    var box = document.createElement("div");
    box.className = "msg__sources";
    var label = document.createElement("p");
    label.className = "msg__sources-label";
    label.textContent = "Sources";
    box.appendChild(label);
    var list = document.createElement("ul");
    parseSources(line, grounding).forEach(function (source) {
      var item = document.createElement("li");
      var title = source.url ? document.createElement("a") : document.createElement("cite");
      if (source.url) { title.href = source.url; title.target = "_blank"; title.rel = "noopener noreferrer"; }
      title.textContent = source.title;
      if (source.publisher) {
        var publisher = document.createElement("span");
        publisher.className = "msg__publisher";
        publisher.textContent = source.publisher + ": ";
        item.appendChild(publisher);
      }
      item.appendChild(title);
      list.appendChild(item);
    });
    box.appendChild(list);
    parent.appendChild(box);
  }

  function triageLevel(message) {
    // Every red-flag advice message carries {"triage": {"level": "emergency" | "same_day" | "soon", "flags": [...]}}
    // (an action's own key, or a domain response's metadata); the widget never guesses from the wording.
    var metadata = message.metadata || {};
    var triage = metadata.triage || (metadata.metadata || {}).triage;
    var levels = ["emergency", "same_day", "soon"];
    if (triage && levels.indexOf(triage.level) !== -1) { return triage.level; }
    return null;
  }

  function renderBotBody(bubble, message) {
    var metadata = message.metadata || {};
    String(message.text || "").split(/\n\s*\n/).forEach(function (paragraph) {
      if (/^Sources:/.test(paragraph)) {
        renderSources(bubble, paragraph, metadata.grounding);
      } else if (/^Where the sources differ:/.test(paragraph)) {
        var note = document.createElement("p");
        note.className = "msg__differ";
        var strong = document.createElement("strong");
        strong.textContent = "Where the sources differ: ";
        note.appendChild(strong);
        appendText(note, paragraph.replace(/^Where the sources differ:\s*/, ""));
        bubble.appendChild(note);
      } else {
        var p = document.createElement("p");
        appendText(p, paragraph);
        bubble.appendChild(p);
      }
    });
  }

  function renderMessage(message, isLatest, isNew) {
    var item = document.createElement("li");
    item.className = "msg msg--" + message.from;
    var bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    var who = document.createElement("span");
    who.className = "visually-hidden";
    var staffName = message.from === "bot" && (message.metadata || {}).author === "staff"
      ? (message.metadata.staff_name || "Clinic team") : null;  // a person from the clinic (bot/handoff)
    who.textContent = message.from === "user" ? "You said: " : (staffName ? staffName + " from the clinic: " : "Assistant: ");
    bubble.appendChild(who);
    if (staffName) {
      item.classList.add("msg--staff");
      var author = document.createElement("p");
      author.className = "msg__author";
      author.setAttribute("aria-hidden", "true");
      author.textContent = staffName + " · clinic team";
      bubble.appendChild(author);
    }
    if (message.from === "user") {
      appendText(bubble, message.text);
    } else {
      var level = triageLevel(message);
      if (level) {
        item.classList.add("msg--urgent", "msg--urgent-" + level);
        if (isNew) { bubble.setAttribute("role", "alert"); }  // announce it now, not again after a reload
        var heading = document.createElement("p");
        heading.className = "msg__urgent-title";
        heading.textContent = "⚠ " + (URGENT_TITLES[level] || "Important");
        bubble.appendChild(heading);
        if (level === "emergency" && config.emergencyNumber) {
          var call = document.createElement("a");
          call.className = "msg__call";
          call.href = "tel:" + config.emergencyNumber;
          call.textContent = "Call " + config.emergencyNumber;
          bubble.appendChild(call);
        }
      }
      renderBotBody(bubble, message);
    }
    item.appendChild(bubble);
    var replies = message.quick_replies || [];
    if (replies.length && isLatest) {
      var group = document.createElement("div");
      group.className = "msg__replies";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      replies.forEach(function (reply) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "msg__reply";
        button.textContent = reply.title;
        button.addEventListener("click", function () { send(reply.payload || reply.title, reply.title); });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    // the rating comes after the follow-up replies, so keyboard users reach those first
    var grounding = message.from === "bot" ? (message.metadata || {}).grounding : null;
    if (grounding && grounding.topic) { item.appendChild(feedbackButtons(message, grounding.topic)); }
    return item;
  }

  function renderAll() {
    log.textContent = "";
    var lastBot = -1;
    state.messages.forEach(function (m, i) { if (m.from === "bot") { lastBot = i; } });
    var userAfter = state.messages.slice(lastBot + 1).some(function (m) { return m.from === "user"; });
    state.messages.forEach(function (message, index) {
      log.appendChild(renderMessage(message, index === lastBot && !userAfter, false));
    });
    log.scrollTop = log.scrollHeight;
  }

  var pinnedAlert = null;  // red-flag advice stays in view while the rest of that turn arrives

  function addMessage(message) {
    state.messages.push(message);
    state.messages = state.messages.slice(-200);  // a long chat must not fill localStorage
    saveState();
    // Buttons belong to the latest bot message only: drop older ones, then append the new item.
    Array.prototype.forEach.call(log.querySelectorAll(".msg__replies"), function (group) { group.remove(); });
    var item = renderMessage(message, message.from === "bot", true);
    log.appendChild(item);
    if (message.from === "user") { pinnedAlert = null; }
    if (item.classList.contains("msg--urgent")) { pinnedAlert = item; }
    log.scrollTop = pinnedAlert ? Math.min(log.scrollHeight, pinnedAlert.offsetTop - 8) : log.scrollHeight;
  }

  // ---- connection --------------------------------------------------------------------------------------
  var socket = null;
  var sessionReady = false;
  var outbox = [];
  var typingTimer = null;

  function setStatus(kind, text) {
    statusLine.dataset.status = kind;
    statusLine.textContent = text;
  }

  function showTyping(on) {
    typing.hidden = !on;
    window.clearTimeout(typingTimer);
    if (on) { typingTimer = window.setTimeout(function () { typing.hidden = true; }, 45000); }
  }

  function connect() {
    if (socket) { return; }
    if (typeof window.io !== "function") {
      setStatus("offline", "The chat could not load (socket.io client missing).");
      return;
    }
    setStatus("connecting", "Connecting…");
    socket = window.io(config.rasaUrl, { path: config.socketPath, transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      sessionReady = false;
      // Rasa's session_persistence: ask for our old session (null = a new one).
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      // The server makes and signs every session id; it confirms the stored one when it can continue it.
      var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
      if (state.sessionId && state.sessionId !== id && state.messages.length) {
        // A new session instead of ours (an id from before an upgrade, or one the server no longer accepts):
        // the old transcript belongs to a conversation this browser cannot continue.
        state.messages = [];
        renderAll();
      }
      state.sessionId = id;
      saveState();
      sessionReady = true;
      setStatus("online", "Online");
      root.dataset.sessionId = id;
      while (outbox.length) {
        var packet = outbox.shift();
        packet.session_id = id;  // queued before the session was confirmed
        socket.emit("user_uttered", packet);
      }
    });
    socket.on("bot_uttered", function (message) {
      showTyping(false);
      if (message.metadata && message.metadata.error === "session") {
        // our session was refused: show why, and ask for a new one (the next message goes there)
        state.sessionId = null;
        sessionReady = false;
        socket.emit("session_request", { session_id: null });
      }
      addMessage({ from: "bot", text: message.text || "", quick_replies: message.quick_replies || [],
                   metadata: message.metadata || {} });
    });
    socket.on("disconnect", function () {
      sessionReady = false;
      setStatus("offline", "Reconnecting…");
    });
    socket.on("connect_error", function () { setStatus("offline", "Cannot reach the assistant; retrying…"); });
  }

  function feedbackButtons(message, topic) {
    // "Was this helpful? 👍 👎" under an answer: the rating goes to the bot as a payload (stored with the
    // answer's topic and sources by actions/feedback.py), without a chat bubble of its own
    var group = document.createElement("div");
    group.className = "msg__feedback";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Was this answer helpful?");
    var label = document.createElement("span");
    label.textContent = message.rated ? "Thanks for your feedback." : "Was this helpful?";
    group.appendChild(label);
    if (message.rated) { return group; }
    [["yes", "👍", "Yes, helpful", "/feedback_helpful"], ["no", "👎", "No, not helpful", "/feedback_unhelpful"]]
      .forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "msg__rate msg__rate--" + choice[0];
        button.textContent = choice[1];
        button.setAttribute("aria-label", choice[2]);
        button.addEventListener("click", function () {
          message.rated = choice[0];
          saveState();
          label.textContent = "Thanks for your feedback.";
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.remove(); });
          var packet = { message: choice[3] + JSON.stringify({ feedback_topic: topic }), session_id: state.sessionId };
          if (sessionReady && socket) { socket.emit("user_uttered", packet); } else { outbox.push(packet); connect(); }
        });
        group.appendChild(button);
      });
    return group;
  }

  function send(payload, shownText) {
    var text = String(shownText || payload).trim();
    if (!text) { return; }
    addMessage({ from: "user", text: text });
    showTyping(true);
    var packet = { message: payload, session_id: state.sessionId };
    if (sessionReady && socket) { socket.emit("user_uttered", packet); } else { outbox.push(packet); connect(); }
    input.focus();
  }

  // ---- panel and form ------------------------------------------------------------------------------
  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.hidden = open;
    root.classList.toggle("chat--open", open);
    state.open = open;
    saveState();
    if (open) { connect(); input.focus(); } else { launcher.focus(); }
  }

  launcher.addEventListener("click", function () { setOpen(true); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  restartButton.addEventListener("click", function () {
    state = { sessionId: null, messages: [], open: true };
    saveState();
    renderAll();
    if (socket) { socket.emit("session_request", { session_id: null }); }
    input.focus();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); }
  });

  renderAll();
  if (state.open || state.messages.length) { setOpen(true); }
})();
