// Read and listen together. Without this script the transcript and its timestamp links
// still work; with it:
// - a click on any utterance or chapter plays from there; "#t=SECONDS" or "#t=START,END"
//   opens the episode at that moment (and plays that passage);
// - the utterance being spoken is highlighted and, unless turned off, scrolled into view;
// - keyboard: space plays or pauses, left and right arrows move 15 seconds;
// - "Partager ce moment" copies a link to the current time; selecting words in the
//   transcript offers a quotation with speaker, role, episode, date and a link.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  if (!audio) return;
  var article = document.querySelector("article.episode");
  var utterances = Array.prototype.slice.call(document.querySelectorAll(".utterance[data-start]"));
  var follow = document.getElementById("suivre");
  var shareOutput = document.getElementById("partage");
  var quoteButton = document.getElementById("citer");
  var quoteBox = document.getElementById("citation");
  var stopAt = null;
  var current = null;

  document.querySelectorAll(".player-tools, .quote-tools").forEach(function (tools) { tools.hidden = false; });

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

  function momentUrl(start, end) {
    var fragment = "#t=" + (Math.floor(start * 10) / 10) + (end !== undefined ? "," + (Math.ceil(end * 10) / 10) : "");
    return window.location.origin + window.location.pathname + fragment;
  }

  function copy(text, done) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      done(false);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var link = target.closest && target.closest("a[href^='#t=']");
    if (link) {
      var moment = parseFragment(link.getAttribute("href"));
      if (!moment) return;
      event.preventDefault();
      history.replaceState(null, "", link.getAttribute("href"));
      playFrom(moment.start, moment.end);
      return;
    }
    var item = target.closest && target.closest(".utterance[data-start]");
    if (item && !target.closest("a, button") && String(window.getSelection()) === "") {
      playFrom(parseFloat(item.dataset.start), null);
    }
  });

  audio.addEventListener("timeupdate", function () {
    var now = audio.currentTime;
    if (stopAt !== null && now >= stopAt) { audio.pause(); stopAt = null; }
    var found = null;
    utterances.forEach(function (item) {
      var on = now >= parseFloat(item.dataset.start) && now < parseFloat(item.dataset.end);
      item.classList.toggle("current", on);
      if (on) found = item;
    });
    if (found && found !== current) {
      current = found;
      if (follow && follow.checked && !audio.paused) found.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (target.closest && target.closest("input, textarea, select, button, a, audio, [contenteditable]")) return;
    if (event.key === " ") {
      event.preventDefault();
      if (audio.paused) audio.play(); else audio.pause();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      var step = event.key === "ArrowLeft" ? -15 : 15;
      audio.currentTime = Math.max(0, Math.min(audio.duration || Infinity, audio.currentTime + step));
    }
  });

  var shareButton = document.getElementById("partager");
  if (shareButton) {
    shareButton.addEventListener("click", function () {
      var url = momentUrl(audio.currentTime);
      copy(url, function (copied) {
        shareOutput.textContent = (copied ? "Lien copié : " : "Copiez ce lien : ") + url;
      });
    });
  }

  function selectedUtterances(selection) {
    if (!selection || selection.isCollapsed || !selection.rangeCount) return [];
    var range = selection.getRangeAt(0);
    return utterances.filter(function (item) { return range.intersectsNode(item); });
  }

  document.addEventListener("selectionchange", function () {
    if (quoteButton) quoteButton.disabled = selectedUtterances(window.getSelection()).length === 0;
  });

  if (quoteButton) {
    quoteButton.addEventListener("click", function () {
      var selection = window.getSelection();
      var items = selectedUtterances(selection);
      if (!items.length) return;
      var words = String(selection).replace(/\s+/g, " ").trim();
      var turn = items[0].closest(".turn");
      var speaker = turn ? turn.dataset.speaker : "";
      var role = turn ? turn.dataset.role : "";
      var first = parseFloat(items[0].dataset.start);
      var last = parseFloat(items[items.length - 1].dataset.end);
      var who = speaker ? speaker + (role ? ", " + role : "") + ", " : "";
      quoteBox.value = "« " + words + " » — " + who + "dans « " + article.dataset.title + " » (" +
        article.dataset.date + ") : " + momentUrl(first, last);
      quoteBox.focus();
      quoteBox.select();
      copy(quoteBox.value, function () {});
    });
  }

  window.addEventListener("hashchange", openFragment);
  openFragment();
})();
