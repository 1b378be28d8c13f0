(function () {
  "use strict";
  var select = document.getElementById("metric-select");
  var sections = document.querySelectorAll("section.metric");
  select.addEventListener("change", function () {
    for (var i = 0; i < sections.length; i++) {
      sections[i].hidden = select.value !== "all" && sections[i].getAttribute("data-metric") !== select.value;
    }
  });
  var table = document.getElementById("rec-table");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (r) {
      var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
      r.hidden = !hit;
      if (hit) { n += 1; }
    });
    shown.textContent = q ? n + " of " + rows.length + " shown" : "";
  }
  filter.addEventListener("input", applyFilter);
  var buttons = table.querySelectorAll("th button");
  Array.prototype.forEach.call(buttons, function (btn) {
    btn.addEventListener("click", function () {
      var col = Number(btn.getAttribute("data-col"));
      var num = btn.getAttribute("data-type") === "num";
      var asc = btn.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(buttons, function (b) { b.removeAttribute("aria-sort"); });
      btn.setAttribute("aria-sort", asc ? "ascending" : "descending");
      function key(r) {
        var c = r.cells[col];
        if (num) { var s = c.getAttribute("data-sort"); return s === "" ? null : Number(s); }
        return c.textContent.toLowerCase();
      }
      rows.sort(function (a, b) {
        var ka = key(a), kb = key(b);
        if (ka === kb) { return 0; }
        if (ka === null) { return 1; }   // missing values last either way
        if (kb === null) { return -1; }
        return (ka < kb ? -1 : 1) * (asc ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
