// The KPI dashboard's charts, drawn with the vendored Chart.js from the JSON the page carries. Each chart has
// a table beside it with the same numbers (the text alternative), so nothing depends on this script.
(function () {
  "use strict";

  function draw() {
    const source = document.getElementById("kpi-chart-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    const data = JSON.parse(source.textContent);
    const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#1f5fbf";
    const suffix = { percent: "%", days: " d", money: "" };

    document.querySelectorAll("canvas[data-trend]").forEach(function (canvas) {
      const trend = data.trends[canvas.dataset.trend];
      new window.Chart(canvas, {
        type: "line",
        data: {
          labels: trend.months,
          datasets: [{
            label: trend.label,
            data: trend.values.map(function (v) { return v === null ? null : Number(v); }),
            borderColor: accent,
            backgroundColor: accent,
            spanGaps: false,
            tension: 0.2,
          }],
        },
        options: {
          animation: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return v + suffix[trend.unit]; } } } },
        },
      });
    });

    const aging = document.getElementById("aging-chart");
    if (aging) {
      const colours = ["#1f5fbf", "#5b8fd9", "#d99a00", "#d35f1a", "#b42318"];
      new window.Chart(aging, {
        type: "bar",
        data: {
          labels: data.aging.payers.map(function (p) { return p.name; }),
          datasets: data.aging.buckets.map(function (bucket, index) {
            return {
              label: bucket,
              data: data.aging.payers.map(function (p) { return Number(p.amounts[index]); }),
              backgroundColor: colours[index],
            };
          }),
        },
        options: {
          animation: false,
          indexAxis: "y",
          scales: { x: { stacked: true, ticks: { callback: function (v) { return "$" + v.toLocaleString(); } } }, y: { stacked: true } },
          plugins: { legend: { position: "bottom" } },
        },
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
