// The dashboard page: reads the JSON API and draws the board, the charts and probe details.
// Plain script, no framework; every value from the API goes in with textContent, never as HTML,
// because banners, diagnostics and hop names come from mail servers.
(() => {
  const REFRESH_MS = 15_000;
  /** The lowest value the round-trip chart's log axis shows. */
  const FLOOR_S = 0.1;
  const MARK_COLOURS = { late: "#9a6700", lost: "#cf222e", bounced: "#8250df", "send-failed": "#57606a" };
  const LINE_COLOURS = ["#0969da", "#1a7f37", "#bf3989", "#9a6700", "#57606a", "#cf222e"];
  const state = { range: "1h", timer: undefined, charts: [], nowMs: Date.now() };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  async function getJson(path) {
    const response = await fetch(path, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`${path}: ${body.error || response.status}`);
    return body;
  }

  function seconds(ms) {
    if (ms === undefined || ms === null) return "–";
    return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
  }

  /** Ages are measured against the server's clock, so the page agrees with the terminal. */
  function ago(atMs) {
    if (atMs === undefined || atMs === null) return "–";
    const s = Math.max(0, Math.round((state.nowMs - atMs) / 1000));
    if (s < 120) return `${s} s ago`;
    if (s < 7200) return `${Math.round(s / 60)} min ago`;
    if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86_400)} d ago`;
  }

  function badge(status) {
    return el("span", { class: `badge ${status}`, title: status }, status);
  }

  function renderBoard(board) {
    const body = $("board").tBodies[0];
    body.replaceChildren();
    for (const target of board.targets) {
      target.rows.forEach((row, index) => {
        const tr = el("tr", {
          class: index === 0 ? "target-first" : "",
          "data-target": target.id,
          "data-subject": row.subject,
        });
        const measure =
          row.kind === "roundtrip"
            ? row.lastProbe
              ? `${row.lastProbe.state}${row.lastProbe.rttMs !== undefined ? ` ${seconds(row.lastProbe.rttMs)}` : ""}`
              : "no probe yet"
            : row.responseMs !== undefined
              ? seconds(row.responseMs)
              : "–";
        const subject =
          row.kind === "roundtrip" && row.lastProbe
            ? el(
                "button",
                { class: "link", type: "button", onclick: () => showProbe(row.lastProbe.probeId) },
                "roundtrip",
              )
            : row.subject;
        const pending = row.pending
          ? el("div", { class: "pending" }, `pending ${row.pending.status} (${row.pending.count}×)`)
          : null;
        tr.append(
          el("td", {}, index === 0 ? target.id : ""),
          el("td", {}, subject),
          el("td", { class: "status" }, badge(row.status), pending),
          el("td", { class: "reason" }, row.reason),
          el("td", {}, row.sinceMs !== undefined ? ago(row.sinceMs) : "–"),
          el("td", {}, ago(row.kind === "roundtrip" ? row.lastProbe?.sentAtMs : row.lastCheckAtMs)),
          el("td", { class: "num" }, measure),
          el(
            "td",
            { class: "num cert" },
            row.certificateDaysLeft !== undefined ? `${row.certificateDaysLeft} days left` : "–",
          ),
        );
        body.append(tr);
      });
    }
    const rejected = Object.entries(board.rejections).map(([reason, n]) => `${reason} ${n}`);
    $("rejections").textContent =
      `Rejected returns (${board.windowHours} h): ${rejected.length ? rejected.join(", ") : "none"}`;
  }

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

  function renderRoundTrip(container, series) {
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
      if (idx !== null && idx !== undefined && probeAt[idx]) showProbe(probeAt[idx]);
    });
    state.charts.push(plot);
    const s = series.summary;
    box.append(
      el(
        "p",
        { class: "caption", "data-role": "summary" },
        `p50 ${seconds(s.p50Ms)} · p95 ${seconds(s.p95Ms)} · ${s.returned} returned · ${s.late} late · ${s.lost} lost · ${s.bounced} bounced · ${s.sendFailed} send-failed`,
      ),
    );
  }

  function renderChecks(container, series) {
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
      state.charts.push(plot);
    }
  }

  function renderRecent(allSeries) {
    const rows = allSeries.flatMap((s) => s.recent.map((p) => ({ ...p, targetId: s.targetId })));
    rows.sort((a, b) => b.sentAtMs - a.sentAtMs);
    const table = el(
      "table",
      { id: "recent-table" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ...["Sent", "Target", "State", "RTT", "Probe"].map((h) => el("th", { scope: "col" }, h)),
        ),
      ),
    );
    const body = el("tbody");
    for (const probe of rows.slice(0, 25)) {
      body.append(
        el(
          "tr",
          { "data-probe": probe.probeId },
          el("td", {}, `${new Date(probe.sentAtMs).toLocaleString()} (${ago(probe.sentAtMs)})`),
          el("td", {}, probe.targetId),
          el("td", {}, probe.state),
          el("td", { class: "num" }, seconds(probe.rttMs)),
          el(
            "td",
            {},
            el(
              "button",
              { class: "link", type: "button", onclick: () => showProbe(probe.probeId) },
              probe.probeId,
            ),
          ),
        ),
      );
    }
    table.append(body);
    $("recent-probes").replaceChildren(rows.length ? table : el("p", {}, "No probes in this range."));
  }

  function fact(list, name, value) {
    if (value === undefined || value === null || value === "") return;
    list.append(el("dt", {}, name), el("dd", {}, value));
  }

  function time(ms) {
    return ms === undefined ? undefined : `${new Date(ms).toISOString()} (${ago(ms)})`;
  }

  async function showProbe(probeId) {
    const panel = $("probe-detail");
    const body = $("probe-detail-body");
    panel.hidden = false;
    body.replaceChildren(el("p", {}, "loading…"));
    let probe;
    try {
      probe = (await getJson(`/api/probes/${encodeURIComponent(probeId)}`)).probe;
    } catch (error) {
      body.replaceChildren(el("p", { class: "error" }, String(error.message || error)));
      return;
    }
    $("probe-detail-title").textContent = `Probe ${probe.probeId}`;
    const facts = el("dl", { class: "facts" });
    fact(facts, "Target", probe.targetId);
    fact(facts, "To", probe.toAddress);
    fact(facts, "State", probe.state);
    fact(facts, "Sent", time(probe.sentAtMs));
    fact(facts, "Deadline", time(probe.deadlineMs));
    fact(facts, "Returned", time(probe.returnedAtMs));
    fact(facts, "Round-trip time", probe.rttMs !== undefined ? seconds(probe.rttMs) : undefined);
    fact(facts, "Reached the server (its clock)", time(probe.remoteArrivedAtMs));
    fact(
      facts,
      "Remote clock offset",
      probe.remoteClockOffsetMs !== undefined
        ? `${(probe.remoteClockOffsetMs / 1000).toFixed(2)} s (informational: the remote clock may be wrong)`
        : undefined,
    );
    fact(facts, "Error", probe.error);
    fact(facts, "Message-ID", probe.messageId);
    const parts = [facts];
    if (probe.bounce) {
      const bounce = el("dl", { class: "facts", id: "bounce-facts" });
      fact(bounce, "Status", probe.bounce.status);
      fact(bounce, "Action", probe.bounce.action);
      fact(bounce, "Remote MTA", probe.bounce.remoteMta);
      fact(bounce, "Diagnostic", probe.bounce.diagnostic);
      parts.push(el("h3", {}, "Bounce"), bounce);
    }
    if (probe.hops?.length) {
      const hops = el(
        "table",
        { id: "hops" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["#", "From", "By", "With", "Stamped at (that host's clock)"].map((h) =>
              el("th", { scope: "col" }, h),
            ),
          ),
        ),
      );
      const hopBody = el("tbody");
      probe.hops.forEach((hop, index) => {
        hopBody.append(
          el(
            "tr",
            {},
            el("td", {}, index + 1),
            el("td", {}, hop.from || "–"),
            el("td", {}, hop.by || "–"),
            el("td", {}, hop.with || "–"),
            el("td", {}, hop.atMs !== undefined ? new Date(hop.atMs).toISOString() : "–"),
          ),
        );
      });
      hops.append(hopBody);
      parts.push(el("h3", {}, "Path (Received headers)"), hops);
    }
    body.replaceChildren(...parts);
  }

  async function refresh() {
    try {
      const [board, targets] = await Promise.all([getJson("/api/status"), getJson("/api/targets")]);
      state.nowMs = board.generatedAtMs;
      const range = encodeURIComponent(state.range);
      const withProbe = targets.targets.filter((t) => t.roundTrip);
      const withEndpoints = targets.targets.filter((t) => t.endpoints.length);
      const [roundTrips, checks] = await Promise.all([
        Promise.all(
          withProbe.map((t) => getJson(`/api/targets/${encodeURIComponent(t.id)}/roundtrip?range=${range}`)),
        ),
        Promise.all(
          withEndpoints.map((t) => getJson(`/api/targets/${encodeURIComponent(t.id)}/checks?range=${range}`)),
        ),
      ]);
      for (const chart of state.charts) chart.destroy();
      state.charts = [];
      renderBoard(board);
      $("roundtrip-charts").replaceChildren();
      for (const series of roundTrips) renderRoundTrip($("roundtrip-charts"), series);
      $("check-charts").replaceChildren();
      for (const series of checks) renderChecks($("check-charts"), series);
      renderRecent(roundTrips);
      $("error").hidden = true;
      $("updated").textContent = `updated ${new Date(board.generatedAtMs).toLocaleTimeString()}`;
      document.body.setAttribute("data-loaded", "true");
    } catch (error) {
      $("error").textContent = `Cannot refresh: ${error.message || error}`;
      $("error").hidden = false;
    }
  }

  /** Refreshes every 15 s while the tab is visible; a hidden tab costs the server nothing. */
  function schedule() {
    clearTimeout(state.timer);
    if (document.hidden) return;
    state.timer = setTimeout(async () => {
      await refresh();
      schedule();
    }, REFRESH_MS);
  }

  document.addEventListener("visibilitychange", async () => {
    if (document.hidden) return clearTimeout(state.timer);
    await refresh();
    schedule();
  });
  $("range").addEventListener("change", async (event) => {
    state.range = event.target.value;
    await refresh();
    schedule();
  });
  $("probe-detail-close").addEventListener("click", () => {
    $("probe-detail").hidden = true;
  });
  refresh().then(schedule);
})();
