// fishchat monitor dashboard: polls /api/cluster every 2 s and draws the page.
// Plain JavaScript, no libraries: the charts are canvas, the table is updated in place.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var samples = [];   // history, oldest first: {t, up, sessions, msg_in, msg_out, servers}
  var lastT = 0;
  var windowMs = 15 * 60 * 1000;
  var latest = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function seriesColor(i) { return cssVar("--s" + (i % 6)); }

  // ---- formatting -------------------------------------------------------------------
  function fmtInt(n) {
    if (n === null || n === undefined) return "–";
    return Math.round(n).toLocaleString("en-US");
  }

  function fmtRate(r) {
    if (r === null || r === undefined) return "–";
    if (r === 0) return "0";
    if (r < 10) return r.toFixed(1);
    return Math.round(r).toLocaleString("en-US");
  }

  function fmtDur(secs) {
    if (secs === null || secs === undefined) return "–";
    var d = Math.floor(secs / 86400), h = Math.floor(secs % 86400 / 3600);
    var m = Math.floor(secs % 3600 / 60), s = Math.floor(secs % 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    if (m > 0) return m + "m " + s + "s";
    return s + "s";
  }

  function fmtAgo(ms) {
    if (ms === null || ms === undefined) return "never";
    if (ms < 1000) return (ms / 1000).toFixed(1) + " s ago";
    return fmtDur(ms / 1000) + " ago";
  }

  function fmtClock(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function label(key) { return key.replace(/_/g, " "); }

  // ---- polling ----------------------------------------------------------------------
  function poll() {
    fetch("/api/cluster?since=" + lastT, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { window.location.href = "/login"; throw new Error("signed out"); }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (c) {
        banner(null);
        ingest(c);
        render(c);
      })
      .catch(function (e) {
        banner("Lost contact with the monitor (" + e.message + "). Retrying every " + POLL_MS / 1000 + " s…");
        setHealth("pill-bad", "monitor unreachable");
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  function banner(text) {
    var b = $("banner");
    if (text) { b.textContent = text; b.hidden = false; } else { b.hidden = true; }
  }

  function ingest(c) {
    windowMs = (c.monitor.history_window_secs || 900) * 1000;
    for (var i = 0; i < c.history.length; i++) {
      if (c.history[i].t > lastT) { samples.push(c.history[i]); lastT = c.history[i].t; }
    }
    var cutoff = c.now_ms - windowMs;
    while (samples.length && samples[0].t < cutoff) samples.shift();
    latest = c;
  }

  // ---- rendering --------------------------------------------------------------------
  function setHealth(cls, text) {
    var h = $("health");
    h.className = "pill " + cls;
    h.textContent = text;
  }

  function render(c) {
    var t = c.totals;
    var rolesDown = c.roles.filter(function (r) { return !r.up; }).length;
    if (t.msg_servers > 0 && t.up === 0) {
      setHealth("pill-bad", "no msg_server is up");
    } else if (t.up < t.msg_servers) {
      setHealth("pill-warn", (t.msg_servers - t.up) + " of " + t.msg_servers + " msg_servers down");
    } else if (rolesDown > 0) {
      setHealth("pill-warn", rolesDown + (rolesDown === 1 ? " role" : " roles") + " not answering");
    } else {
      setHealth("pill-ok", "all " + t.msg_servers + " msg_servers up");
    }
    $("updated").textContent = "updated " + fmtClock(c.now_ms);
    $("logout").hidden = !c.monitor.login;

    $("k-sessions").textContent = fmtInt(t.sessions);
    $("k-clients").textContent = fmtInt(t.clients) + " distinct clients";
    $("k-in").textContent = fmtRate(t.msg_in_per_sec);
    $("k-in-total").textContent = fmtInt(t.msg_in) + " since start";
    $("k-out").textContent = fmtRate(t.msg_out_per_sec);
    $("k-out-total").textContent = fmtInt(t.msg_out) + " since start";
    $("k-pending").textContent = fmtInt(t.pending_acks);
    $("k-offline").textContent = t.offline_depth === null ? "–" : fmtInt(t.offline_depth);
    $("k-topics").textContent = fmtInt(t.topics);
    $("k-servers").textContent = t.up + " of " + t.msg_servers + " msg_servers up";

    renderServers(c.servers);
    renderRoles(c);
    drawCharts(c);

    var beat = c.monitor.beat_ms / 1000;
    $("foot").textContent = "";
    $("foot").append(
      "Beats every " + beat + " s; a msg_server is down after " + c.monitor.stale_after_ms / 1000 +
      " s without one. History: " + Math.round(c.monitor.history_window_secs / 60) + " min. JSON: ",
      link("/api/cluster"), " ", link("/api/servers"), " · Prometheus: ", link("/metrics")
    );
  }

  function link(href) {
    var a = el("a", null, href);
    a.href = href;
    return a;
  }

  var FIELDS = [
    ["sessions", fmtInt], ["clients", fmtInt], ["topics", fmtInt],
    ["msg_in_per_sec", fmtRate], ["msg_out_per_sec", fmtRate], ["pending_acks", fmtInt],
    ["uptime_secs", fmtDur]
  ];

  function renderServers(servers) {
    var body = $("servers-body");
    var empty = body.querySelector("tr.empty");
    if (servers.length && empty) empty.remove();
    servers.forEach(function (s, i) {
      var row = body.querySelector('tr[data-index="' + i + '"]');
      if (!row) {
        row = el("tr");
        row.dataset.index = i;
        row.dataset.server = s.addr;
        var st = el("td", "st"); st.appendChild(el("span", "status"));
        row.appendChild(st);
        var addr = el("td", "addr", s.addr);
        row.appendChild(addr);
        FIELDS.forEach(function (f) {
          var td = el("td", "num");
          td.dataset.field = f[0];
          row.appendChild(td);
        });
        var beat = el("td", "num"); beat.dataset.field = "last_beat";
        row.appendChild(beat);
        var spark = el("td", "spark");
        spark.appendChild(el("canvas", "spark"));
        spark.appendChild(el("div", "why"));
        row.appendChild(spark);
        body.appendChild(row);
      }
      row.className = s.up ? "up" : "down";
      var status = row.querySelector(".status");
      status.className = "status " + (s.up ? "up" : "down");
      status.textContent = s.up ? "up" : "down";
      status.title = s.since_ms ? (s.up ? "up since " : "down since ") + new Date(s.since_ms).toLocaleString() : "";
      FIELDS.forEach(function (f) {
        row.querySelector('td[data-field="' + f[0] + '"]').textContent = f[1](s[f[0]]);
      });
      row.querySelector('td[data-field="last_beat"]').textContent = fmtAgo(s.last_beat_ms_ago);
      var canvas = row.querySelector("canvas.spark");
      var why = row.querySelector(".why");
      canvas.hidden = !s.up;
      why.hidden = s.up;
      if (s.up) drawSpark(canvas, i); else why.textContent = s.down_reason || "down";
    });
  }

  function renderRoles(c) {
    var box = $("roles");
    box.textContent = "";
    var cards = c.roles.map(function (r) { return roleCard(r.role, r.addr, r.up, r.status, r.error); });
    cards.push(roleCard("monitor", c.monitor.addr, true, {
      dashboard: c.monitor.web, uptime: fmtDur(c.monitor.uptime_secs), login: c.monitor.login ? "required" : "loopback only"
    }, null));
    cards.forEach(function (card) { box.appendChild(card); });
  }

  function roleCard(role, addr, up, status, error) {
    var card = el("div", "role");
    card.dataset.role = role;
    var head = el("div", "role-head");
    head.appendChild(el("span", "role-name", role));
    head.appendChild(el("span", "status " + (up ? "up" : "down"), up ? "up" : "down"));
    card.appendChild(head);
    card.appendChild(el("div", "role-addr", addr));
    var dl = el("dl");
    if (status && typeof status === "object") {
      Object.keys(status).forEach(function (k) {
        var v = status[k];
        if (Array.isArray(v)) {
          if (v.length && v[0] && typeof v[0] === "object" && "up" in v[0]) {
            var n = v.filter(function (x) { return x.up; }).length;
            v = n + " of " + v.length + " up";
          } else {
            return;
          }
        } else if (v && typeof v === "object") {
          return;
        } else if (typeof v === "number") {
          v = fmtInt(v);
        }
        dl.appendChild(el("dt", null, label(k)));
        dl.appendChild(el("dd", null, String(v)));
      });
    }
    card.appendChild(dl);
    if (error) card.appendChild(el("div", "err", error));
    return card;
  }

  // ---- charts -----------------------------------------------------------------------
  function fit(canvas) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return { ctx: ctx, w: w, h: h };
  }

  // The top of a chart with four grid steps of a round size (1, 2, 5 × 10^n, at least 1).
  function niceMax(v) {
    var step = Math.max(v / 4, 1);
    var p = Math.pow(10, Math.floor(Math.log10(step)));
    var m = [1, 2, 5, 10].find(function (k) { return k * p >= step; });
    return 4 * m * p;
  }

  // How much time the charts span: the whole history window once it is full, and until
  // then what there is (at least a minute), so a new monitor's charts are not a sliver.
  function span(now) {
    if (!samples.length) return 60000;
    return Math.min(windowMs, Math.max(60000, (now - samples[0].t) * 1.04));
  }

  function fmtOffset(ms) {
    if (ms < 1000) return "now";
    if (ms < 120000) return "−" + Math.round(ms / 1000) + " s";
    return "−" + Math.round(ms / 60000) + " min";
  }

  // series: [{values: [number|null], color, fill, stackBase: [number]|null}]
  function drawChart(canvas, now, series, fmt) {
    var f = fit(canvas), ctx = f.ctx;
    var padL = 44, padR = 8, padT = 8, padB = 20;
    var W = f.w - padL - padR, H = f.h - padT - padB;
    if (W <= 0 || H <= 0) return;
    var spanMs = span(now), start = now - spanMs;
    var max = 0;
    series.forEach(function (s) {
      s.values.forEach(function (v, i) {
        var top = (v || 0) + (s.stackBase ? s.stackBase[i] || 0 : 0);
        if (v !== null && top > max) max = top;
      });
    });
    max = niceMax(max);
    var muted = cssVar("--muted"), grid = cssVar("--grid");
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (var g = 0; g <= 4; g++) {
      var y = padT + H - H * g / 4;
      ctx.strokeStyle = grid; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(padL, Math.round(y) + 0.5); ctx.lineTo(padL + W, Math.round(y) + 0.5); ctx.stroke();
      ctx.fillStyle = muted; ctx.textAlign = "right";
      ctx.fillText(fmt(max * g / 4), padL - 6, y);
    }
    ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    for (var k = 0; k <= 3; k++) {
      var x = padL + W * k / 3;
      ctx.fillStyle = muted;
      ctx.textAlign = k === 0 ? "left" : k === 3 ? "right" : "center";
      ctx.fillText(fmtOffset(spanMs * (3 - k) / 3), x, f.h - 5);
    }
    function X(t) { return padL + W * (t - start) / spanMs; }
    function Y(v) { return padT + H - H * v / max; }
    series.forEach(function (s) {
      // runs of non-null points
      var runs = [], run = [];
      s.values.forEach(function (v, i) {
        if (v === null || samples[i].t < start) { if (run.length) runs.push(run); run = []; return; }
        var base = s.stackBase ? s.stackBase[i] || 0 : 0;
        run.push([X(samples[i].t), Y(v + base), Y(base)]);
      });
      if (run.length) runs.push(run);
      runs.forEach(function (r) {
        if (s.fill) {
          ctx.beginPath();
          ctx.moveTo(r[0][0], r[0][2]);
          r.forEach(function (p) { ctx.lineTo(p[0], p[1]); });
          for (var j = r.length - 1; j >= 0; j--) ctx.lineTo(r[j][0], r[j][2]);
          ctx.closePath();
          ctx.globalAlpha = 0.16; ctx.fillStyle = s.color; ctx.fill(); ctx.globalAlpha = 1;
        }
        ctx.beginPath();
        r.forEach(function (p, j) { if (j === 0) ctx.moveTo(p[0], p[1]); else ctx.lineTo(p[0], p[1]); });
        if (r.length === 1) ctx.lineTo(r[0][0] + 1.5, r[0][1]);
        ctx.strokeStyle = s.color; ctx.lineWidth = 1.8; ctx.lineJoin = "round"; ctx.stroke();
      });
    });
  }

  function drawCharts(c) {
    var now = c.now_ms;
    drawChart($("chart-rate"), now, [
      { values: samples.map(function (s) { return s.msg_out; }), color: cssVar("--out"), fill: false },
      { values: samples.map(function (s) { return s.msg_in; }), color: cssVar("--in"), fill: true }
    ], fmtRate);

    // Sessions, stacked by msg_server.
    var n = c.servers.length, base = samples.map(function () { return 0; }), series = [];
    for (var i = 0; i < n; i++) {
      var vals = samples.map(function (s) { var x = s.servers[i]; return x ? x[0] : null; });
      series.push({ values: vals, color: seriesColor(i), fill: true, stackBase: base.slice() });
      base = base.map(function (b, j) { return b + (vals[j] || 0); });
    }
    drawChart($("chart-sessions"), now, series, fmtInt);
    var legend = $("sessions-legend");
    legend.textContent = "";
    c.servers.forEach(function (s, i) {
      var sw = el("i", "sw");
      sw.style.background = seriesColor(i);
      legend.appendChild(sw);
      legend.appendChild(document.createTextNode(s.addr.replace(/^.*:/, ":") + " "));
    });
  }

  function drawSpark(canvas, i) {
    var f = fit(canvas), ctx = f.ctx;
    var pts = samples.map(function (s) { var x = s.servers[i]; return x ? x[1] + x[2] : null; });
    var max = 1;
    pts.forEach(function (v) { if (v !== null && v > max) max = v; });
    var now = latest ? latest.now_ms : Date.now(), spanMs = span(now), start = now - spanMs;
    ctx.strokeStyle = cssVar("--grid"); ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, f.h - 0.5); ctx.lineTo(f.w, f.h - 0.5); ctx.stroke();
    ctx.strokeStyle = cssVar("--accent"); ctx.lineWidth = 1.5;
    ctx.beginPath();
    var pen = false;
    pts.forEach(function (v, j) {
      if (v === null) { pen = false; return; }
      if (samples[j].t < start) return;
      var x = f.w * (samples[j].t - start) / spanMs, y = f.h - 2 - (f.h - 4) * v / max;
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
  }

  window.addEventListener("resize", function () { if (latest) drawCharts(latest); });
  poll();
})();
