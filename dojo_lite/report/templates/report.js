"use strict";
// dojo_lite report: draws the charts, sorts the tables, and unpacks an episode when it is opened.
(function () {
  const CONFIG = { displaylogo: false, responsive: true };

  function plot(div, spec) {
    return Plotly.newPlot(div, spec.data, spec.layout, CONFIG);
  }

  function drawTaskCharts() {
    const drawn = [];
    for (const section of document.querySelectorAll("section.task")) {
      const specs = JSON.parse(section.querySelector("script.chart-data").textContent);
      for (const div of section.querySelectorAll(".chart[data-chart]")) {
        drawn.push(plot(div, specs[div.dataset.chart]));
      }
    }
    return Promise.all(drawn);
  }

  function cellValue(row, column, numeric) {
    const cell = row.cells[column];
    const text = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
    if (!numeric) return text;
    const number = parseFloat(text);
    return Number.isNaN(number) ? -Infinity : number;
  }

  function makeSortable(table) {
    table.querySelectorAll("thead th").forEach((th, column) => {
      th.addEventListener("click", () => {
        const numeric = th.dataset.type === "number";
        const ascending = !th.classList.contains("sorted-asc");
        table.querySelectorAll("thead th").forEach((other) => other.classList.remove("sorted-asc", "sorted-desc"));
        th.classList.add(ascending ? "sorted-asc" : "sorted-desc");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        rows.sort((a, b) => {
          const x = cellValue(a, column, numeric), y = cellValue(b, column, numeric);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        body.append(...rows);
      });
    });
  }

  async function unpack(index) {
    const holder = document.querySelector('script.episode-data[data-episode="' + index + '"]');
    if (!holder) throw new Error("no episode " + index + " in this report");
    const bytes = Uint8Array.from(atob(holder.textContent.trim()), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  async function openEpisode(index) {
    const episode = await unpack(index);
    const section = document.getElementById("episode");
    const row = document.querySelector('tr.episode-row[data-episode="' + index + '"]');
    document.querySelectorAll("tr.episode-row.current").forEach((r) => r.classList.remove("current"));
    if (row) row.classList.add("current");
    document.getElementById("episode-title").textContent =
      "Episode " + (index + 1) + (row ? ": " + row.cells[1].textContent : "");
    // The html was escaped when the report was made: it holds no text the page would run.
    document.getElementById("episode-body").innerHTML = episode.html;
    section.hidden = false;
    await plot(section.querySelector(".episode-chart"), episode.chart);
    section.dataset.open = String(index);
    return index;
  }

  function indexFromHash() {
    const match = /^#episode-(\d+)$/.exec(location.hash);
    return match ? Number(match[1]) : null;
  }

  function onRow(event) {
    const row = event.target.closest("tr.episode-row");
    if (!row || (event.type === "keydown" && event.key !== "Enter")) return;
    location.hash = "episode-" + row.dataset.episode;
  }

  async function start() {
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.addEventListener("click", onRow);
    document.addEventListener("keydown", onRow);
    window.addEventListener("hashchange", () => {
      const index = indexFromHash();
      if (index !== null) openEpisode(index).then(() => document.getElementById("episode").scrollIntoView());
    });
    await drawTaskCharts();
    const episodes = document.querySelectorAll("script.episode-data").length;
    const first = indexFromHash() ?? (episodes === 1 ? 0 : null);
    if (first !== null) await openEpisode(first);
    document.body.dataset.ready = "1";
  }

  window.dojoReport = { openEpisode: openEpisode, ready: start() };
})();
