// Follows a running deployment's log over Server-Sent Events (no build step, no inline script):
// each line goes under its phase's group with its time; a phase's header comes before its lines.
"use strict";
(function () {
  const log = document.getElementById("log");
  if (!log || log.dataset.live !== "yes") return;
  const state = document.getElementById("state");
  const phases = document.getElementById("phases");
  const source = new EventSource(log.dataset.events + "?after=" + log.dataset.after);
  let group = log.querySelector("details.phase-log:last-of-type");

  function openGroup(name) {
    const existing = log.querySelector('details.phase-log[data-phase="' + CSS.escape(name) + '"]');
    if (existing) return existing;
    const details = document.createElement("details");
    details.className = "phase-log";
    details.dataset.phase = name;
    details.open = true;
    const summary = document.createElement("summary");
    summary.textContent = name;
    details.append(summary);
    log.append(details);
    return details;
  }

  function time(iso) {
    const at = new Date(iso);
    return isNaN(at) ? "" : at.toISOString().slice(11, 19);
  }

  source.addEventListener("log", (event) => {
    const line = JSON.parse(event.data);
    if (!group) group = openGroup("setup");
    const row = document.createElement("div");
    row.className = "line";
    row.id = "L" + line.seq;
    const stamp = document.createElement("a");
    stamp.className = "ts";
    stamp.href = "#L" + line.seq;
    stamp.textContent = time(line.at);
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = line.text;
    row.append(stamp, " ", text);
    group.append(row);
    log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("phase", (event) => {
    const name = JSON.parse(event.data).phase;
    group = openGroup(name);
    // the stream starts with every phase so far; the page already lists those
    if (phases.querySelector('li[data-phase="' + CSS.escape(name) + '"]')) return;
    const item = document.createElement("li");
    item.dataset.phase = name;
    item.textContent = name;
    phases.append(item);
  });
  source.addEventListener("finished", (event) => {
    const done = JSON.parse(event.data);
    state.textContent = done.state;
    state.className = "state " + done.state;
    source.close();
    // durations, the error link and highlight are the page's: show the finished one
    if (done.state !== "ready") window.location.reload();
    else for (const [name, seconds] of Object.entries(done.phases || {})) {
      const item = phases.querySelector('li[data-phase="' + CSS.escape(name) + '"]');
      if (item && !item.querySelector(".took")) {
        const took = document.createElement("span");
        took.className = "took";
        took.textContent = " " + seconds.toFixed(1) + " s";
        item.append(took);
      }
    }
  });
})();
