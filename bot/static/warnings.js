// Draws the tuning page's warnings charts from the JSON the page carries (no inline script: CSP).
"use strict";
(function () {
  var source = document.getElementById("warning-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  function draw(id, series, options) {
    var canvas = document.getElementById(id);
    if (!canvas || !series) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [
          {
            label: options.label,
            data: options.values(series),
            backgroundColor: options.colour,
          },
        ],
      },
      options: {
        animation: false,
        indexAxis: options.horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: options.scales,
      },
    });
  }
  var counts = { beginAtZero: true, ticks: { precision: 0 } };
  function count(series) {
    return series.count;
  }
  draw("chart-warnings-per-day", data.day, {
    label: "Warnings",
    values: count,
    colour: "#005eb8",
    scales: { y: counts },
  });
  draw("chart-warnings-per-channel", data.channel, {
    label: "Warnings",
    values: count,
    colour: "#005eb8",
    horizontal: true,
    scales: { x: counts },
  });
  draw("chart-warnings-per-type", data.type, {
    label: "Warnings",
    values: count,
    colour: "#005eb8",
    horizontal: true,
    scales: { x: counts },
  });
  // Percentages: one warning can be followed by several actions, so they need not add to 100.
  draw("chart-warnings-outcomes", data.outcome, {
    label: "% of warnings",
    values: function (series) {
      return series.share;
    },
    colour: "#007f3b",
    horizontal: true,
    scales: { x: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } },
  });
})();
