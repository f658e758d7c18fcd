// Studio: seek the player from a passage's time; refresh processing progress on the list page.
(function () {
  var player = document.getElementById("lecteur");
  document.querySelectorAll(".seek").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!player) return;
      player.currentTime = parseFloat(button.dataset.start);
      player.play();
    });
  });

  var jobs = document.querySelectorAll("[data-job]");
  if (!jobs.length) return;
  function refresh() {
    fetch("/studio/travaux.json", { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (list) {
        var changed = false;
        list.forEach(function (job) {
          var item = document.querySelector('[data-job="' + job.id + '"]');
          if (!item) return;
          var bar = item.querySelector("progress");
          var stage = item.querySelector(".job-stage");
          if (bar) { bar.value = job.progress; bar.textContent = Math.round(job.progress * 100) + " %"; }
          if (stage && job.stage) stage.textContent = job.stage;
          if (job.status === "done" || job.status === "failed") changed = true;
        });
        if (changed) { window.location.reload(); } else { window.setTimeout(refresh, 2000); }
      })
      .catch(function () { window.setTimeout(refresh, 5000); });
  }
  window.setTimeout(refresh, 2000);
})();
