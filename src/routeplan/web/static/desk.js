// The desk's one script: follows a run's progress until it is over, then reloads its page.
(function () {
  "use strict";
  const state = document.getElementById("run-state");
  if (!state || state.dataset.over === "yes") return;
  const bar = document.getElementById("run-progress");
  const stage = document.getElementById("run-stage");
  function poll() {
    fetch(state.dataset.statusUrl, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((s) => {
        if (s.over) { window.location.reload(); return; }
        if (bar) bar.value = s.fraction;
        if (stage) stage.textContent = s.stage;
        window.setTimeout(poll, 700);
      })
      .catch(() => window.setTimeout(poll, 2000));
  }
  window.setTimeout(poll, 500);
})();
