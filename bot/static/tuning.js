// Draws the tuning page's charts from the JSON the page carries (no inline script: CSP).
"use strict";
(function () {
  var source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  function bar(id, series) {
    var canvas = document.getElementById(id);
    if (!canvas || !series) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [
          { label: "Breach reports", data: series.breach, backgroundColor: "#d5281b" },
          { label: "Not patient data", data: series.false, backgroundColor: "#005eb8" },
        ],
      },
      options: {
        animation: false,
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }
  bar("chart-per-day", data.day);
  bar("chart-per-type", data.type);
  bar("chart-per-channel", data.channel);
})();
