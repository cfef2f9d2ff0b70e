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
    const rows = phases.tBodies[0];
    if (rows.querySelector('tr[data-phase="' + CSS.escape(name) + '"]')) return;
    for (const open of rows.querySelectorAll("tr.running")) open.classList.remove("running");
    const row = document.createElement("tr");
    row.dataset.phase = name;
    row.className = "running";
    for (const text of [name, new Date().toTimeString().slice(0, 8), "running", ""]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    rows.append(row);
  });
  source.addEventListener("finished", (event) => {
    const done = JSON.parse(event.data);
    state.textContent = done.state;
    state.className = "state " + done.state;
    source.close();
    // the timeline's starts and durations, the buttons and the error link are the page's own
    window.location.reload();
  });
})();
