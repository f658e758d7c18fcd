// Read and listen together: timestamp links play from their moment, "#t=SECONDS"
// (or "#t=START,END") opens the episode there, the utterance being spoken is highlighted.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  if (!audio) return;
  var utterances = Array.prototype.slice.call(document.querySelectorAll(".utterance[data-start]"));
  var stopAt = null;

  function parseFragment(hash) {
    var match = /^#t=([0-9.]+)(?:,([0-9.]+))?$/.exec(hash || "");
    if (!match) return null;
    return { start: parseFloat(match[1]), end: match[2] ? parseFloat(match[2]) : null };
  }

  function playFrom(start, end) {
    stopAt = end;
    var seek = function () {
      audio.currentTime = start;
      var playing = audio.play();
      if (playing && playing.catch) playing.catch(function () { /* autoplay refused: stay paused at the moment */ });
    };
    if (audio.readyState >= 1) seek(); else audio.addEventListener("loadedmetadata", seek, { once: true });
  }

  function openFragment() {
    var moment = parseFragment(window.location.hash);
    if (moment) playFrom(moment.start, moment.end);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.timestamp");
    if (!link) return;
    var moment = parseFragment(link.getAttribute("href"));
    if (!moment) return;
    event.preventDefault();
    history.replaceState(null, "", link.getAttribute("href"));
    playFrom(moment.start, moment.end);
  });

  audio.addEventListener("timeupdate", function () {
    var now = audio.currentTime;
    if (stopAt !== null && now >= stopAt) { audio.pause(); stopAt = null; }
    utterances.forEach(function (item) {
      var on = now >= parseFloat(item.dataset.start) && now < parseFloat(item.dataset.end);
      item.classList.toggle("current", on);
    });
  });

  window.addEventListener("hashchange", openFragment);
  openFragment();
})();
