// The dashboard page: reads the JSON API and draws the board, the charts and probe details.
// Plain script, no framework; every value from the API goes in with textContent, never as HTML,
// because banners, diagnostics and hop names come from mail servers.

(() => {
  const { $, el, getJson, seconds } = window.scoutDom;
  const { renderChecks, renderRoundTrip } = window.scoutCharts;
  const REFRESH_MS = 15_000;
  const state = { range: "1h", timer: undefined, charts: [], nowMs: Date.now() };

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
          el("td", { class: "reason", title: row.message ?? "" }, row.reason),
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
        : probe.remoteClockSkewed
          ? "unknown: the remote clock is wrong (its arrival time lies outside send and return by over 10 minutes)"
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
    if (probe.verdicts) parts.push(el("h3", {}, "The receiver's verdicts"), verdictFacts(probe.verdicts));
    body.replaceChildren(...parts);
  }

  /** SPF, DKIM, DMARC, ARC as the receiver stamped them, and each spam filter's word. */
  function verdictFacts(verdicts) {
    const list = el("dl", { class: "facts", id: "verdict-facts" });
    if (verdicts.folder) {
      fact(list, "Landed in", `${verdicts.folder.name}${verdicts.folder.junk ? " (the junk folder)" : ""}`);
    }
    fact(list, "Stamped by", verdicts.authservId ?? "no Authentication-Results from the receiver");
    for (const [method, label] of [
      ["spf", "SPF"],
      ["dkim", "DKIM"],
      ["dmarc", "DMARC"],
      ["arc", "ARC"],
    ]) {
      const verdict = verdicts[method];
      if (!verdict) continue;
      const about = verdict.domain ? ` for ${verdict.domain}` : "";
      const why = verdict.reason ? ` (${verdict.reason})` : "";
      fact(list, label, `${verdict.result}${about}${why}`);
    }
    for (const spam of verdicts.spam) {
      const score =
        spam.score !== undefined
          ? `, score ${spam.score}${spam.threshold !== undefined ? ` of ${spam.threshold}` : ""}`
          : "";
      const scl = spam.scl !== undefined ? `, SCL ${spam.scl}` : "";
      const detail = spam.detail ? ` (${spam.detail})` : "";
      fact(list, `Spam filter: ${spam.filter}`, `${spam.verdict}${score}${scl}${detail}`);
    }
    if (verdicts.ignoredAuthResults > 0) {
      fact(
        list,
        "Not counted",
        `${verdicts.ignoredAuthResults} Authentication-Results from the probe itself or other hosts`,
      );
    }
    if (verdicts.problems.length > 0) fact(list, "Unreadable", verdicts.problems.join("; "));
    return list;
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
      for (const series of roundTrips)
        state.charts.push(renderRoundTrip($("roundtrip-charts"), series, showProbe));
      $("check-charts").replaceChildren();
      for (const series of checks) state.charts.push(...renderChecks($("check-charts"), series));
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
