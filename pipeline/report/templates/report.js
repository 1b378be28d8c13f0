(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var tl = data.timeline, svg = document.getElementById("timeline");
  var scroller = document.getElementById("timeline-scroll");
  var player = document.getElementById("player");
  var turns = Array.prototype.slice.call(document.querySelectorAll("#turns .turn[data-start]"));
  var NS = "http://www.w3.org/2000/svg", AXIS = 20, LANE = 34;
  var pxPerSec = null, playhead = null;

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function clock(t) {
    t = Math.max(0, Math.floor(t));
    var m = Math.floor(t / 60), s = t % 60;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function title(e, text) { el("title", {}, e).textContent = text; }
  function fitScale() { return Math.max(0.5, (scroller.clientWidth - 4) / Math.max(tl.duration, 1)); }

  function seek(t) {
    if (player) {
      player.currentTime = Math.max(0, t);
      highlight(t);
    } else {
      highlight(t);
    }
  }

  function draw() {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var lanes = tl.lanes.length, w = Math.ceil(tl.duration * pxPerSec), h = AXIS + (lanes + 1) * LANE + 18;
    svg.setAttribute("width", w); svg.setAttribute("height", h);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    var defs = el("defs", {}, svg);
    var pat = el("pattern", {id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)"}, defs);
    el("rect", {width: 6, height: 6, fill: "#ffffff", "fill-opacity": "0.35"}, pat);
    el("line", {x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#000", "stroke-width": 2.5}, pat);
    if (tl.opening) {
      var o = el("rect", {x: tl.opening.start * pxPerSec, y: AXIS, width: (tl.opening.end - tl.opening.start) * pxPerSec,
                          height: lanes * LANE, "class": "opening"}, svg);
      title(o, "Opening statement " + clock(tl.opening.start) + " to " + clock(tl.opening.end));
    }
    var step = [5, 10, 15, 30, 60, 120, 300, 600].find(function (s) { return s * pxPerSec >= 70; }) || 600;
    for (var t = 0; t <= tl.duration; t += step) {
      el("line", {x1: t * pxPerSec, y1: AXIS - 5, x2: t * pxPerSec, y2: h, "class": "tick", "stroke-opacity": 0.25}, svg);
      el("text", {x: t * pxPerSec + 2, y: 12, "class": "tick-label"}, svg).textContent = clock(t);
    }
    tl.segments.forEach(function (s) {
      var r = el("rect", {x: s.start * pxPerSec, y: AXIS + s.lane * LANE + 6, width: Math.max(1, (s.end - s.start) * pxPerSec),
                          height: LANE - 12, "class": "seg role-" + tl.lanes[s.lane].role, "data-start": s.start}, svg);
      title(r, tl.lanes[s.lane].label + " " + clock(s.start) + " to " + clock(s.end));
    });
    tl.overlaps.forEach(function (s) {
      var r = el("rect", {x: s.start * pxPerSec, y: AXIS + 2, width: Math.max(1, (s.end - s.start) * pxPerSec),
                          height: lanes * LANE - 4, "class": "overlap"}, svg);
      title(r, "Both talking " + clock(s.start) + " (" + (s.end - s.start).toFixed(1) + " s)");
    });
    var marksY = AXIS + lanes * LANE;
    tl.pauses.forEach(function (p) {
      var r = el("rect", {x: p.start * pxPerSec, y: marksY + 20, width: Math.max(2, (p.end - p.start) * pxPerSec),
                          height: 10, "class": "mark-pause", "data-start": p.start}, svg);
      title(r, (p.kind === "clinician_wait" ? "Clinician waited " : "Patient paused ") + (p.end - p.start).toFixed(1) + " s at " + clock(p.start));
    });
    tl.backchannels.forEach(function (b) {
      var x = b.start * pxPerSec;
      var l = el("line", {x1: x, y1: marksY + 2, x2: x, y2: marksY + 16, "class": "mark-bc", "data-start": b.start}, svg);
      title(l, (b.role === "clinician" ? "Clinician" : "Patient") + " backchannel at " + clock(b.start));
    });
    (tl.questions || []).forEach(function (q) {
      var c = el("circle", {cx: q.start * pxPerSec, cy: marksY + 42, r: 3.5,
                            "class": "mark-q" + (q.kind === "open" ? " open" : ""), "data-start": q.start}, svg);
      title(c, "Clinician " + q.kind + " question at " + clock(q.start));
    });
    (tl.cues || []).forEach(function (q) {
      var x = q.start * pxPerSec, y = marksY + 42;
      var d = el("polygon", {points: x + "," + (y - 6) + " " + (x + 5) + "," + y + " " + x + "," + (y + 6) + " " + (x - 5) + "," + y,
                             "class": "mark-cue" + (q.outcome === "responded" ? "" : " missed"), "data-start": q.start}, svg);
      title(d, "Worry or feeling voiced at " + clock(q.start) + (q.outcome === "responded" ? " (taken up)" : " (not taken up in the next words)"));
    });
    tl.interruptions.forEach(function (i) {
      var x = i.start * pxPerSec, y = marksY + 3;
      var m = el("polygon", {points: (x - 6) + "," + y + " " + (x + 6) + "," + y + " " + x + "," + (y + 12),
                             "class": "mark-int" + (i.successful ? "" : " unsuccessful"), "data-start": i.start}, svg);
      title(m, (i.role === "clinician" ? "Clinician" : "Patient") + " interruption at " + clock(i.start) +
            (i.successful ? " (took the floor)" : ""));
    });
    playhead = el("line", {x1: 0, y1: AXIS, x2: 0, y2: h, "class": "playhead"}, svg);
    movePlayhead(player ? player.currentTime : 0);
  }

  function movePlayhead(t) {
    if (playhead) { playhead.setAttribute("x1", t * pxPerSec); playhead.setAttribute("x2", t * pxPerSec); }
  }

  var current = null;
  function highlight(t) {
    var found = null;
    for (var i = 0; i < turns.length; i++) {
      var s = parseFloat(turns[i].getAttribute("data-start")), e = parseFloat(turns[i].getAttribute("data-end"));
      if (s <= t + 0.05 && t < e) { found = turns[i]; }
      if (s > t + 0.05) { break; }
    }
    if (found !== current) {
      if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
      if (found) { found.classList.add("current"); found.setAttribute("aria-current", "true"); }
      current = found;
    }
    movePlayhead(t);
    var now = document.getElementById("now");
    if (now) { now.textContent = clock(t); }
  }

  svg.addEventListener("click", function (ev) {
    var t = ev.target.getAttribute && ev.target.getAttribute("data-start");
    if (t !== null && t !== undefined) { seek(parseFloat(t)); }
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest(".play-from");
    if (!b) { return; }
    seek(parseFloat(b.getAttribute("data-start")));
    if (player) { player.play(); }
    var tgt = document.getElementById("player-section");
    if (tgt && tgt.scrollIntoView) { tgt.scrollIntoView({block: "nearest"}); }
  });
  document.getElementById("turns").addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-start]");
    if (b) { seek(parseFloat(b.getAttribute("data-start"))); }
  });
  document.getElementById("zoom-in").addEventListener("click", function () { pxPerSec *= 2; draw(); });
  document.getElementById("zoom-out").addEventListener("click", function () { pxPerSec = Math.max(0.05, pxPerSec / 2); draw(); });
  document.getElementById("zoom-fit").addEventListener("click", function () { pxPerSec = fitScale(); draw(); });

  if (player) {
    player.addEventListener("timeupdate", function () { highlight(player.currentTime); });
    player.addEventListener("seeked", function () { highlight(player.currentTime); });
    document.getElementById("play-toggle").addEventListener("click", function () {
      if (player.paused) { player.play(); } else { player.pause(); }
    });
    document.getElementById("back5").addEventListener("click", function () { seek(player.currentTime - 5); });
    document.getElementById("fwd5").addEventListener("click", function () { seek(player.currentTime + 5); });
  }

  var box = document.getElementById("search-box"), count = document.getElementById("search-count");
  box.addEventListener("input", function () {
    var q = box.value.trim().toLowerCase(), shown = 0;
    turns.forEach(function (t) {
      var hit = !q || t.textContent.toLowerCase().indexOf(q) >= 0;
      t.hidden = !hit;
      if (hit) { shown++; }
    });
    count.textContent = q ? shown + " of " + turns.length + " turns" : "";
  });

  pxPerSec = fitScale();
  draw();
  window.addEventListener("resize", function () { if (pxPerSec < fitScale()) { pxPerSec = fitScale(); draw(); } });
  window.attuneReport = {seek: seek, data: data};
})();
