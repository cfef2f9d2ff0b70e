// Follows an environment's runtime log over Server-Sent Events (no build step, no inline script).
"use strict";
(function () {
  const log = document.getElementById("runtime-log");
  if (!log) return;
  const state = document.getElementById("app-state");
  const source = new EventSource(log.dataset.events);

  function time(iso) {
    const at = new Date(iso);
    return isNaN(at) ? "" : at.toISOString().slice(11, 19);
  }

  source.addEventListener("environment", (event) => {
    const env = JSON.parse(event.data);
    state.textContent = env.state;
    state.className = "state " + env.state;
  });
  source.addEventListener("log", (event) => {
    const line = JSON.parse(event.data);
    const row = document.createElement("div");
    row.className = line.source === "autostack" ? "line note" : "line";
    row.dataset.seq = line.seq;
    const stamp = document.createElement("span");
    stamp.className = "ts";
    stamp.textContent = time(line.at);
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = line.text;
    row.append(stamp, " ", text);
    log.append(row);
    log.scrollTop = log.scrollHeight;
  });
})();
