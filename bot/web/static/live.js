// Follows a running deployment's log over Server-Sent Events (no build step, no inline script).
"use strict";
(function () {
  const log = document.getElementById("log");
  if (!log || log.dataset.live !== "yes") return;
  const state = document.getElementById("state");
  const phases = document.getElementById("phases");
  const source = new EventSource(log.dataset.events + "?after=" + log.dataset.after);
  source.addEventListener("log", (event) => {
    log.append(JSON.parse(event.data).text + "\n");
    log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("phase", (event) => {
    const name = JSON.parse(event.data).phase;
    // the stream starts with every phase so far; the page already lists those
    if ([...phases.children].some((item) => item.textContent === name)) return;
    const item = document.createElement("li");
    item.textContent = name;
    phases.append(item);
  });
  source.addEventListener("finished", (event) => {
    const done = JSON.parse(event.data);
    state.textContent = done.state;
    state.className = "state " + done.state;
    source.close();
  });
})();
