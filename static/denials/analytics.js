// The denial analytics charts, drawn with the vendored Chart.js from the JSON the page carries. Each chart has
// a table on the page with the same numbers and links (the text alternative), so nothing depends on this
// script. A click on a bar or point opens the denials behind it.
(function () {
  "use strict";

  function draw() {
    const source = document.getElementById("denial-chart-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    const data = JSON.parse(source.textContent);
    const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#1f5fbf";
    const bad = "#b42318";
    const dollars = function (v) { return "$" + Number(v).toLocaleString(); };
    const percent = function (v) { return v + "%"; };

    function open(points) {
      return function (_event, elements) {
        if (elements.length) { window.location.href = points[elements[0].index].url; }
      };
    }

    function pointer(event, elements) {
      event.native.target.style.cursor = elements.length ? "pointer" : "default";
    }

    const pareto = document.getElementById("pareto-chart");
    if (pareto) {
      new window.Chart(pareto, {
        data: {
          labels: data.pareto.map(function (p) { return p.label; }),
          datasets: [
            { type: "bar", label: "Denied dollars", data: data.pareto.map(function (p) { return Number(p.amount); }), backgroundColor: bad, yAxisID: "y" },
            { type: "line", label: "Cumulative share", data: data.pareto.map(function (p) { return Number(p.cumulative); }), borderColor: accent, backgroundColor: accent, yAxisID: "share", tension: 0 },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          onClick: open(data.pareto),
          onHover: pointer,
          plugins: { legend: { position: "bottom" } },
          scales: {
            y: { beginAtZero: true, ticks: { callback: dollars } },
            share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: { callback: percent } },
          },
        },
      });
    }

    const month = document.getElementById("month-chart");
    if (month) {
      new window.Chart(month, {
        data: {
          labels: data.month.map(function (p) { return p.label; }),
          datasets: [
            { type: "bar", label: "Denied dollars", data: data.month.map(function (p) { return Number(p.amount); }), backgroundColor: bad, yAxisID: "y" },
            { type: "line", label: "Denial rate by count", data: data.month.map(function (p) { return p.rate === null ? null : Number(p.rate); }), borderColor: accent, backgroundColor: accent, yAxisID: "rate", tension: 0.2 },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          onClick: open(data.month),
          onHover: pointer,
          plugins: { legend: { position: "bottom" } },
          scales: {
            y: { beginAtZero: true, ticks: { callback: dollars } },
            rate: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { callback: percent } },
          },
        },
      });
    }

    const payer = document.getElementById("payer-chart");
    if (payer) {
      new window.Chart(payer, {
        type: "bar",
        data: {
          labels: data.payer.map(function (p) { return p.label; }),
          datasets: [{ label: "Denied dollars", data: data.payer.map(function (p) { return Number(p.amount); }), backgroundColor: bad }],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          indexAxis: "y",
          onClick: open(data.payer),
          onHover: pointer,
          plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, ticks: { callback: dollars } } },
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
