// Progressive enhancement: refresh the grading counts every 2 s until the batch is done.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var text = document.getElementById("progress-text");
  var bar = document.getElementById("progress-bar");
  var wasDone = null;
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        var finished = p.graded + p.unreadable;
        text.textContent = finished + " of " + p.total + " done: " + p.graded + " graded, " + p.unreadable +
          " unreadable, " + p.running + " grading, " + p.queued + " waiting; " + p.needs_review + " need review.";
        bar.max = Math.max(1, p.total);
        bar.value = finished;
        if (wasDone === false && p.done) { window.location.assign(box.getAttribute("data-page-url")); return; }
        wasDone = p.done;
        if (!p.done) { window.setTimeout(tick, 2000); }
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  tick();
})();
