// The charts (window.scoutCharts), drawn with uPlot; the page loads uPlot and dom.js first.
(() => {
  const { el, seconds } = window.scoutDom;
  /** The lowest value the round-trip chart's log axis shows. */
  const FLOOR_S = 0.1;
  const MARK_COLOURS = { late: "#9a6700", lost: "#cf222e", bounced: "#8250df", "send-failed": "#57606a" };
  const LINE_COLOURS = ["#0969da", "#1a7f37", "#bf3989", "#9a6700", "#57606a", "#cf222e"];

  function chartBox(title) {
    const box = el("div", { class: "chart" }, el("h3", {}, title));
    return box;
  }

  function chartWidth() {
    return Math.max(320, Math.min(640, Math.floor((document.body.clientWidth - 80) / 2)));
  }

  function isPowerOfTen(value) {
    const exponent = Math.log10(value);
    return Math.abs(exponent - Math.round(exponent)) < 1e-9;
  }

  /** One target's round-trip chart; clicking a late/lost/bounced point calls onPick(probeId). Returns the plot. */
  function renderRoundTrip(container, series, onPick) {
    const box = chartBox(`${series.targetId} · round trip`);
    box.setAttribute("data-target", series.targetId);
    container.append(box);
    // One x axis for lines and points: bucket midpoints plus the marks' send times.
    const half = series.bucketMs / 2;
    const rows = series.buckets.map((b) => ({ x: (b.startMs + half) / 1000, p50: b.p50Ms, p95: b.p95Ms }));
    for (const mark of series.marks) rows.push({ x: mark.sentAtMs / 1000, mark });
    rows.sort((a, b) => a.x - b.x);
    const states = ["late", "lost", "bounced", "send-failed"];
    // uPlot breaks a line at null (an empty bucket) but joins across undefined (a row that
    // only exists for a point of another series).
    const toSeconds = (ms) => (ms === undefined ? undefined : ms === null ? null : ms / 1000);
    const data = [
      rows.map((r) => r.x),
      rows.map((r) => toSeconds(r.p50)),
      rows.map((r) => toSeconds(r.p95)),
      // A log axis has no zero: send failures (no time at all) sit at its floor.
      ...states.map((s) =>
        rows.map((r) => (r.mark && r.mark.state === s ? Math.max(FLOOR_S, r.mark.valueMs / 1000) : null)),
      ),
    ];
    const probeAt = rows.map((r) => (r.mark ? r.mark.probeId : null));
    const plot = new uPlot(
      {
        width: chartWidth(),
        height: 220,
        // Log scale: a 3 s p50 and a 400 s late probe both stay readable on one chart.
        scales: {
          x: { time: true, range: [series.sinceMs / 1000, series.untilMs / 1000] },
          y: { distr: 3, log: 10 },
        },
        // Label the powers of ten only; the minor ticks stay as grid lines.
        axes: [
          {},
          {
            label: "seconds (log)",
            values: (_u, ticks) => ticks.map((t) => (isPowerOfTen(t) ? `${t}` : "")),
          },
        ],
        series: [
          {},
          {
            label: "p50",
            stroke: LINE_COLOURS[0],
            width: 2,
            spanGaps: false,
            value: (_u, v) => (v === null ? "–" : `${v.toFixed(2)} s`),
          },
          {
            label: "p95",
            stroke: LINE_COLOURS[1],
            width: 1.5,
            dash: [6, 4],
            value: (_u, v) => (v === null ? "–" : `${v.toFixed(2)} s`),
          },
          ...states.map((s) => ({
            label: s,
            stroke: MARK_COLOURS[s],
            fill: MARK_COLOURS[s],
            paths: () => null,
            points: { show: true, size: 9, stroke: MARK_COLOURS[s], fill: MARK_COLOURS[s] },
            value: (_u, v) => (v === null ? "–" : `${v.toFixed(1)} s`),
          })),
        ],
      },
      data,
      box,
    );
    plot.over.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx !== null && idx !== undefined && probeAt[idx]) onPick(probeAt[idx]);
    });
    const s = series.summary;
    box.append(
      el(
        "p",
        { class: "caption", "data-role": "summary" },
        `p50 ${seconds(s.p50Ms)} · p95 ${seconds(s.p95Ms)} · ${s.returned} returned · ${s.late} late · ${s.lost} lost · ${s.bounced} bounced · ${s.sendFailed} send-failed`,
      ),
    );
    return plot;
  }

  /** Check latency charts of one target, one per protocol. Returns the plots. */
  function renderChecks(container, series) {
    const plots = [];
    const byProtocol = new Map();
    for (const endpoint of series.endpoints) {
      if (!byProtocol.has(endpoint.protocol)) byProtocol.set(endpoint.protocol, []);
      byProtocol.get(endpoint.protocol).push(endpoint);
    }
    for (const [protocol, endpoints] of byProtocol) {
      const box = chartBox(`${series.targetId} · ${protocol}`);
      box.setAttribute("data-target", series.targetId);
      box.setAttribute("data-protocol", protocol);
      container.append(box);
      const half = series.bucketMs / 2;
      const x = (endpoints[0]?.buckets || []).map((b) => (b.startMs + half) / 1000);
      const data = [x, ...endpoints.map((e) => e.buckets.map((b) => b.p50Ms))];
      const plot = new uPlot(
        {
          width: chartWidth(),
          height: 200,
          scales: {
            x: { time: true, range: [series.sinceMs / 1000, series.untilMs / 1000] },
            y: { range: (_u, _min, max) => [0, Math.max(10, max || 10) * 1.1] },
          },
          axes: [{}, { label: "ms" }],
          series: [
            {},
            ...endpoints.map((e, i) => ({
              label: e.endpoint,
              stroke: LINE_COLOURS[i % LINE_COLOURS.length],
              width: 2,
              points: { show: true, size: 5 },
              value: (_u, v) => (v === null ? "–" : `${Math.round(v)} ms`),
            })),
          ],
        },
        data,
        box,
      );
      plots.push(plot);
    }
    return plots;
  }

  window.scoutCharts = { renderRoundTrip, renderChecks };
})();
