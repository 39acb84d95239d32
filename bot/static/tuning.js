// Draws the tuning page's charts from the JSON the page carries (no inline script: CSP).
"use strict";
(function () {
  var source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var blue = "#005eb8";
  function bar(id, labels, values, label) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: blue }] },
      options: {
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
  bar("chart-per-day", data.days, data.per_day, "Reports");
  bar("chart-per-type", data.types, data.per_type, "Reports");
  bar("chart-per-channel", data.channels, data.per_channel, "Reports");
})();
