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

  const TROUBLED = ["restarting", "crashed", "unhealthy"];

  function stamp(iso) {
    const at = new Date(iso);
    return isNaN(at) ? iso : at.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  // the box the page renders for an app in trouble, kept as the stream says the state changes
  function showTrouble(env) {
    let box = document.getElementById("trouble");
    if (!TROUBLED.includes(env.state)) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("section");
      box.className = "trouble";
      box.id = "trouble";
      document.querySelector("nav.tabs").after(box);
    }
    const summary = document.createElement("p");
    const label = document.createElement("strong");
    label.textContent = env.state.charAt(0).toUpperCase() + env.state.slice(1);
    const since = document.createElement("time");
    since.dateTime = env.since || "";
    since.textContent = env.since ? stamp(env.since) : "";
    summary.append(label, " since ", since, ": " + (env.reason || ""));
    const parts = [summary];
    if (env.last_lines && env.last_lines.length) {
      const lines = document.createElement("pre");
      lines.className = "last-lines";
      lines.textContent = env.last_lines.map((line) => line + "\n").join("");
      parts.push(lines);
    }
    box.replaceChildren(...parts);
  }

  source.addEventListener("environment", (event) => {
    const env = JSON.parse(event.data);
    state.textContent = env.state;
    state.className = "state " + env.state;
    showTrouble(env);
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
