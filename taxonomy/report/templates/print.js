/* Print: open the examples and size charts to an A4 landscape page (about 1030 px wide), then restore. */
(function () {
  function charts() { return Array.prototype.slice.call(document.querySelectorAll(".plotly-graph-div")); }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.setAttribute("data-was-open", d.open ? "1" : "0"); d.open = true; });
    charts().forEach(function (gd) { if (window.Plotly) { Plotly.relayout(gd, {width: 980}); } });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = d.getAttribute("data-was-open") === "1"; });
    charts().forEach(function (gd) { if (window.Plotly) { Plotly.relayout(gd, {width: null, autosize: true}); } });
  });
})();
