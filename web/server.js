#!/usr/bin/env node
// kantai web service: seed 000's "naive fibonacci" web server, dependency-free.
//   GET /         -> {"result":832040}            (fib(30))
//   GET /:n       -> {"result":fib(n)}            (0 <= n <= MAX_N)
//   GET /healthz  -> {"status":"ok"}              (load-balancer health check)
//   anything else -> 400 (bad n) / 404 / 405
// Every response carries `X-Kantai-Instance` (env INSTANCE, else the host name) so a caller can
// tell which backend answered. Listens on PORT (default 3000) and HOST (default 0.0.0.0).
// Written for any Node.js >= 12 (it runs on the VMs inside the official node image).
"use strict";
const http = require("http");
const os = require("os");

const MAX_N = 40;

/** Naive exponential-time Fibonacci: the seed's CPU-bound workload, on purpose. */
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function handler(instance) {
  return function (req, res) {
    const send = function (status, body) {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
        "X-Kantai-Instance": instance,
      });
      res.end(text);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, { error: "method not allowed" });
    const path = (req.url || "/").split("?")[0];
    if (path === "/") return send(200, { result: fib(30) });
    if (path === "/healthz") return send(200, { status: "ok" });
    const m = /^\/([^/]+)$/.exec(path);
    if (!m) return send(404, { error: "not found" });
    const raw = decodeURIComponent(m[1]);
    if (!/^\d+$/.test(raw) || Number(raw) > MAX_N) {
      return send(400, { error: "n must be an integer from 0 to " + MAX_N + ", got " + JSON.stringify(raw) });
    }
    return send(200, { result: fib(Number(raw)) });
  };
}

function start(options) {
  const opts = options || {};
  const port = opts.port !== undefined ? opts.port : Number(process.env.PORT || 3000);
  const host = opts.host || process.env.HOST || "0.0.0.0";
  const instance = opts.instance || process.env.INSTANCE || os.hostname();
  const server = http.createServer(handler(instance));
  server.keepAliveTimeout = 5000;
  return new Promise(function (resolve, reject) {
    server.once("error", reject);
    server.listen(port, host, function () {
      resolve(server);
    });
  });
}

module.exports = { fib: fib, start: start, MAX_N: MAX_N };

if (require.main === module) {
  start().then(
    function (server) {
      const a = server.address();
      console.log("kantai web service listening on " + a.address + ":" + a.port);
      const stop = function () {
        server.close(function () {
          process.exit(0);
        });
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    },
    function (err) {
      console.error("kantai web service failed to start: " + err.message);
      process.exit(1);
    },
  );
}
