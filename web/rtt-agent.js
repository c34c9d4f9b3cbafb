#!/usr/bin/env node
// kantai RTT agent: measures the round-trip time from this node to every other node's agent and
// serves it to Prometheus (docs/reference/rtt-agent.md). Dependency-free; runs on node:22-alpine
// from a ConfigMap, one per node (DaemonSet), like web/server.js.
//
//   GET /ping     -> {"node":"<this node>"}   (what peers probe; also the readiness probe)
//   GET /metrics  -> Prometheus text format 0.0.4:
//       latency_between_nodes{from="a",to="b"} <ms>   median RTT over the window
//       plus the agent's own health (rtt_agent_*), see docs/reference/rtt-agent.md
//
// Every INTERVAL_MS it sends one HTTP GET /ping to each peer over a kept-alive connection and
// records the time to the end of the response (one request/response round trip; the first probe
// of a connection also pays the TCP handshake, which the median absorbs). Samples older than
// WINDOW_MS are forgotten. A timeout or error is counted, never averaged in; a sample more than
// OUTLIER_FACTOR times the window's median is counted as an outlier and kept out of the EWMA.
// A peer without a successful sample inside the window has no latency_between_nodes series at
// all (so Prometheus marks the old one stale): a silent node disappears, it is never 0 ms.
//
// Peers: PEERS="name=host:port,..." (static), or PEER_DNS=<headless Service FQDN> with PEER_PORT:
// every A record is an agent; its node name is learned from its /ping answer.
// Environment: NODE_NAME (required), PORT (9464), HOST (0.0.0.0), INTERVAL_MS (5000),
// WINDOW_MS (10000), TIMEOUT_MS (1000), OUTLIER_FACTOR (3), EWMA_ALPHA (0.3), POD_IP (skipped
// among the DNS answers), DELAY_MS (0: artificial delay of this agent's /ping answers, for tests).
"use strict";
const http = require("http");
const dns = require("dns");

const METRIC = "latency_between_nodes";

function num(v, dflt, name) {
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(name + ": must be a non-negative number, got " + JSON.stringify(v));
  return n;
}

/** Options from the environment (or an object with the same keys, for tests). */
function optionsFrom(env) {
  const node = env.NODE_NAME;
  if (!node) throw new Error("NODE_NAME: is required (the node this agent runs on; the downward API's spec.nodeName)");
  const peers = [];
  if (env.PEERS) {
    for (const item of String(env.PEERS)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^([^=]+)=(.+):(\d+)$/.exec(item);
      if (!m) throw new Error("PEERS: " + JSON.stringify(item) + " is not name=host:port");
      peers.push({ name: m[1], host: m[2], port: Number(m[3]) });
    }
  }
  if (!env.PEERS && !env.PEER_DNS)
    throw new Error("PEERS or PEER_DNS: one is required (static peers, or the agents' headless Service)");
  const o = {
    node: node,
    host: env.HOST || "0.0.0.0",
    port: num(env.PORT, 9464, "PORT"),
    peers: peers,
    peerDns: env.PEER_DNS || undefined,
    peerPort: num(env.PEER_PORT, num(env.PORT, 9464, "PORT"), "PEER_PORT"),
    podIp: env.POD_IP || undefined,
    intervalMs: num(env.INTERVAL_MS, 5000, "INTERVAL_MS"),
    windowMs: num(env.WINDOW_MS, 10000, "WINDOW_MS"),
    timeoutMs: num(env.TIMEOUT_MS, 1000, "TIMEOUT_MS"),
    outlierFactor: num(env.OUTLIER_FACTOR, 3, "OUTLIER_FACTOR"),
    ewmaAlpha: num(env.EWMA_ALPHA, 0.3, "EWMA_ALPHA"),
    delayMs: num(env.DELAY_MS, 0, "DELAY_MS"),
  };
  if (o.intervalMs <= 0) throw new Error("INTERVAL_MS: must be positive");
  if (o.windowMs < o.intervalMs) throw new Error("WINDOW_MS: must be at least INTERVAL_MS (" + o.intervalMs + ")");
  if (o.ewmaAlpha <= 0 || o.ewmaAlpha > 1) throw new Error("EWMA_ALPHA: must be in (0, 1]");
  return o;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

/**
 * Robust statistics of one peer over a sliding window. Pure apart from the clock passed in.
 * Samples: {t, ms} for answers, {t, ms: null} for timeouts/errors.
 */
function PeerStats(windowMs, outlierFactor, alpha) {
  this.windowMs = windowMs;
  this.outlierFactor = outlierFactor;
  this.alpha = alpha;
  this.samples = [];
  this.ewma = undefined;
  this.timeouts = 0; // totals since start (counters)
  this.errors = 0;
  this.outliers = 0;
  this.probes = 0;
}
PeerStats.prototype.prune = function (now) {
  while (this.samples.length && this.samples[0].t < now - this.windowMs) this.samples.shift();
};
PeerStats.prototype.ok = function (now, ms) {
  this.probes++;
  this.prune(now);
  const good = this.samples.filter((s) => s.ms !== null && !s.outlier).map((s) => s.ms);
  const outlier = good.length >= 3 && ms > this.outlierFactor * median(good);
  if (outlier) this.outliers++;
  else this.ewma = this.ewma === undefined || good.length === 0 ? ms : this.alpha * ms + (1 - this.alpha) * this.ewma;
  this.samples.push({ t: now, ms: ms, outlier: outlier });
};
PeerStats.prototype.fail = function (now, kind) {
  this.probes++;
  if (kind === "timeout") this.timeouts++;
  else this.errors++;
  this.prune(now);
  this.samples.push({ t: now, ms: null });
};
/** The window's view: median of the answers (outliers included: the median is robust), or undefined when none. */
PeerStats.prototype.view = function (now) {
  this.prune(now);
  const answers = this.samples.filter((s) => s.ms !== null);
  if (answers.length === 0) return undefined;
  return {
    medianMs: median(answers.map((s) => s.ms)),
    ewmaMs: this.ewma,
    samples: answers.length,
    lost: this.samples.length - answers.length,
  };
};

const esc = (v) => String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const fmt = (x) => (Number.isInteger(x) ? String(x) : String(Math.round(x * 1000) / 1000));

/** Prometheus text exposition (format 0.0.4) of an agent's state. */
function renderMetrics(agent, now) {
  const node = agent.opts.node;
  const lines = [];
  const family = (name, type, help, rows) => {
    lines.push("# HELP " + name + " " + help, "# TYPE " + name + " " + type);
    for (const r of rows)
      lines.push(
        name +
          "{" +
          Object.keys(r.labels)
            .map((k) => k + '="' + esc(r.labels[k]) + '"')
            .join(",") +
          "} " +
          r.value,
      );
  };
  const peers = agent.peerList();
  const views = peers.map((p) => ({ p: p, v: p.name ? p.stats.view(now) : undefined }));
  const named = views.filter((x) => x.p.name);
  family(
    METRIC,
    "gauge",
    "Median round-trip time in milliseconds from node `from` to node `to` over the agent's window; absent when `to` did not answer within the window.",
    named.filter((x) => x.v).map((x) => ({ labels: { from: node, to: x.p.name }, value: fmt(x.v.medianMs) })),
  );
  family(
    METRIC + "_ewma",
    "gauge",
    "Exponentially weighted moving average of the round-trip time in milliseconds (outliers excluded); absent like latency_between_nodes.",
    named
      .filter((x) => x.v && x.v.ewmaMs !== undefined)
      .map((x) => ({ labels: { from: node, to: x.p.name }, value: fmt(x.v.ewmaMs) })),
  );
  family(
    "rtt_agent_peer_up",
    "gauge",
    "1 when the peer answered within the window, 0 when it is known but silent.",
    named.map((x) => ({ labels: { from: node, to: x.p.name }, value: x.v ? "1" : "0" })),
  );
  family(
    "rtt_agent_window_samples",
    "gauge",
    "Answers inside the window per peer.",
    named.filter((x) => x.v).map((x) => ({ labels: { from: node, to: x.p.name }, value: String(x.v.samples) })),
  );
  const id = (p) => (p.name ? { from: node, to: p.name } : { from: node, to_address: p.host + ":" + p.port });
  family(
    "rtt_agent_probes_total",
    "counter",
    "Probes sent per peer.",
    peers.map((p) => ({ labels: id(p), value: String(p.stats.probes) })),
  );
  family(
    "rtt_agent_probe_timeouts_total",
    "counter",
    "Probes that got no answer within the timeout (counted, never averaged in).",
    peers.map((p) => ({ labels: id(p), value: String(p.stats.timeouts) })),
  );
  family(
    "rtt_agent_probe_errors_total",
    "counter",
    "Probes that failed (connection refused, bad answer).",
    peers.map((p) => ({ labels: id(p), value: String(p.stats.errors) })),
  );
  family(
    "rtt_agent_probe_outliers_total",
    "counter",
    "Answers slower than OUTLIER_FACTOR times the window median (kept out of the EWMA).",
    peers.map((p) => ({ labels: id(p), value: String(p.stats.outliers) })),
  );
  family("rtt_agent_peers", "gauge", "Peers this agent probes.", [
    { labels: { node: node }, value: String(peers.length) },
  ]);
  family("rtt_agent_discovery_errors_total", "counter", "Failed peer discoveries (DNS).", [
    { labels: { node: node }, value: String(agent.discoveryErrors) },
  ]);
  family("rtt_agent_up", "gauge", "1 while the agent runs.", [{ labels: { node: node }, value: "1" }]);
  return lines.join("\n") + "\n";
}

function Agent(opts) {
  this.opts = opts;
  this.peers = new Map(); // "host:port" -> {host, port, name, stats, agent, seen}
  this.discoveryErrors = 0;
  this.timer = undefined;
  this.server = undefined;
  for (const p of opts.peers) if (p.name !== opts.node) this.addPeer(p.host, p.port, p.name);
}
Agent.prototype.addPeer = function (host, port, name) {
  const key = host + ":" + port;
  let p = this.peers.get(key);
  if (!p) {
    p = {
      host: host,
      port: port,
      name: name,
      stats: new PeerStats(this.opts.windowMs, this.opts.outlierFactor, this.opts.ewmaAlpha),
      agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
      seen: Date.now(),
    };
    this.peers.set(key, p);
  }
  p.seen = Date.now();
  return p;
};
Agent.prototype.peerList = function () {
  return Array.from(this.peers.values()).sort((a, b) => ((a.name || a.host) < (b.name || b.host) ? -1 : 1));
};
Agent.prototype.discover = function () {
  const o = this.opts;
  if (!o.peerDns) return Promise.resolve();
  const self = this;
  return dns.promises.resolve4(o.peerDns).then(
    function (addrs) {
      for (const a of addrs) if (a !== o.podIp) self.addPeer(a, o.peerPort, undefined);
      // A peer no longer in DNS is forgotten once its window has passed.
      const cutoff = Date.now() - o.windowMs;
      for (const [k, p] of self.peers)
        if (p.seen < cutoff) {
          p.agent.destroy();
          self.peers.delete(k);
        }
    },
    function () {
      self.discoveryErrors++;
    },
  );
};
Agent.prototype.probe = function (p) {
  const o = this.opts;
  const self = this;
  return new Promise(function (resolve) {
    const start = process.hrtime.bigint();
    let done = false;
    let timer;
    const finish = function (fn) {
      if (!done) {
        done = true;
        clearTimeout(timer);
        fn();
        resolve();
      }
    };
    const req = http.get(
      { host: p.host, port: p.port, path: "/ping", agent: p.agent, headers: { "x-rtt-from": o.node } },
      function (res) {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", function (c) {
          body += c;
        });
        res.on("end", function () {
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          finish(function () {
            let name;
            try {
              name = JSON.parse(body).node;
            } catch {
              name = undefined;
            }
            if (res.statusCode !== 200 || typeof name !== "string" || name === "")
              return p.stats.fail(Date.now(), "error");
            if (name === o.node) {
              self.peers.delete(p.host + ":" + p.port);
              return;
            } // ourselves via DNS
            p.name = p.name || name;
            p.stats.ok(Date.now(), ms);
          });
        });
      },
    );
    timer = setTimeout(function () {
      finish(function () {
        p.stats.fail(Date.now(), "timeout");
      });
      req.destroy(new Error("timeout"));
    }, o.timeoutMs);
    req.on("error", function () {
      finish(function () {
        p.stats.fail(Date.now(), "error");
      });
    });
  });
};
Agent.prototype.round = function () {
  const self = this;
  return this.discover().then(function () {
    return Promise.all(self.peerList().map((p) => self.probe(p)));
  });
};
Agent.prototype.handler = function () {
  const self = this;
  return function (req, res) {
    const path = (req.url || "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405);
      return res.end();
    }
    if (path === "/ping") {
      const body = JSON.stringify({ node: self.opts.node });
      const send = function () {
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
        res.end(body);
      };
      return self.opts.delayMs > 0 ? setTimeout(send, self.opts.delayMs) : send();
    }
    if (path === "/metrics") {
      const text = renderMetrics(self, Date.now());
      res.writeHead(200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
        "Content-Length": Buffer.byteLength(text),
      });
      return res.end(text);
    }
    res.writeHead(404);
    res.end();
  };
};
Agent.prototype.start = function () {
  const self = this;
  this.server = http.createServer(this.handler());
  return new Promise(function (resolve, reject) {
    self.server.once("error", reject);
    self.server.listen(self.opts.port, self.opts.host, function () {
      let running = false;
      const tick = function () {
        if (running) return; // a slow round never overlaps the next
        running = true;
        self.round().then(function () {
          running = false;
        });
      };
      tick();
      self.timer = setInterval(tick, self.opts.intervalMs);
      resolve(self);
    });
  });
};
Agent.prototype.stop = function () {
  clearInterval(this.timer);
  for (const p of this.peers.values()) p.agent.destroy();
  const s = this.server;
  return new Promise(function (resolve) {
    if (!s) return resolve();
    s.close(function () {
      resolve();
    });
    s.closeAllConnections();
  });
};

module.exports = {
  Agent: Agent,
  PeerStats: PeerStats,
  optionsFrom: optionsFrom,
  renderMetrics: renderMetrics,
  median: median,
  METRIC: METRIC,
};

if (require.main === module) {
  let opts;
  try {
    opts = optionsFrom(process.env);
  } catch (e) {
    console.error("rtt-agent: " + e.message);
    process.exit(2);
  }
  new Agent(opts).start().then(
    function (agent) {
      const a = agent.server.address();
      console.log(
        "rtt-agent " +
          opts.node +
          " listening on " +
          a.address +
          ":" +
          a.port +
          ", probing every " +
          opts.intervalMs +
          " ms over a " +
          opts.windowMs +
          " ms window",
      );
      const stop = function () {
        agent.stop().then(function () {
          process.exit(0);
        });
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    },
    function (err) {
      console.error("rtt-agent failed to start: " + err.message);
      process.exit(1);
    },
  );
}
