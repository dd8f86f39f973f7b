#!/usr/bin/env node
// node_client.js: the Node twin of xds_client (same flags, same JSON), on @grpc/grpc-js with
// @grpc/grpc-js-xds registered, so `xds:///host:port` targets use Node's own xDS client
// (bootstrap from GRPC_XDS_BOOTSTRAP). One client object = one channel for every call, so a
// weighted split is drawn per call. Run it with `node`, from any directory.
'use strict';
const path = require('path');
const { parseArgs } = require('util');

// Packages come from the repository root's node_modules (npm ci there), whatever the cwd.
// grpc-js-xds must register into the very grpc-js instance we use, which this guarantees.
const repoRoot = path.resolve(__dirname, '..', '..');
const load = (name) => require(require.resolve(name, { paths: [repoRoot] }));
const grpc = load('@grpc/grpc-js');
const protoLoader = load('@grpc/proto-loader');
load('@grpc/grpc-js-xds').register();

function usage(msg) {
  process.stderr.write(`Error: ${msg}\n`);
  process.exit(64);
}

function parseFlags() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        target: { type: 'string' },
        calls: { type: 'string' },
        'duration-s': { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        'deadline-ms': { type: 'string', default: '5000' },
        'interval-ms': { type: 'string', default: '0' },
        'report-ms': { type: 'string', default: '1000' },
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  if (!values.target) usage('--target is required');
  if (values.calls !== undefined && values['duration-s'] !== undefined) {
    usage('--calls excludes --duration-s');
  }
  const num = (name, fallback) => {
    const v = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isFinite(v) || v < 0) usage(`--${name} wants a number >= 0`);
    return v;
  };
  const headers = values.header.map((h) => {
    const eq = h.indexOf('=');
    if (eq <= 0) usage(`--header wants k=v, got '${h}'`);
    return [h.slice(0, eq).toLowerCase(), h.slice(eq + 1)]; // HTTP/2 names are lowercase
  });
  return {
    target: values.target,
    calls: num('calls', 1),
    durationS: num('duration-s', 0),
    headers,
    deadlineMs: num('deadline-ms'),
    intervalMs: num('interval-ms'),
    reportMs: num('report-ms'),
  };
}

const byKey = ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (entries) => Object.fromEntries([...entries].sort(byKey));

class Counts {
  constructor() {
    this.servers = new Map();
    this.codes = new Map();
    this.errors = new Map(); // first message per failing code, for diagnosis
    this.metadata = {}; // what the server saw on the last OK call
  }
  add(err, reply) {
    const code = err ? grpc.status[err.code] ?? 'UNKNOWN' : 'OK';
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (err) {
      if (!this.errors.has(code)) this.errors.set(code, err.details ?? String(err));
    } else {
      this.servers.set(reply.server, (this.servers.get(reply.server) ?? 0) + 1);
      this.metadata = sorted(Object.entries(reply.metadata));
    }
  }
  toJson() {
    return {
      servers: sorted(this.servers),
      codes: sorted(this.codes),
      errors: sorted(this.errors),
      metadata: this.metadata,
    };
  }
}

async function main() {
  const flags = parseFlags();
  const def = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), {
    keepCase: true,
    longs: String,
    defaults: true,
  });
  const Echo = grpc.loadPackageDefinition(def).meshtest.echo.Echo;
  const client = new Echo(flags.target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  for (const [k, v] of flags.headers) metadata.add(k, v);

  const call = (i) =>
    new Promise((resolve) => {
      const deadline = Date.now() + flags.deadlineMs;
      client.Call({ message: `call ${i}` }, metadata, { deadline }, (err, reply) =>
        resolve([err, reply]),
      );
    });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const start = performance.now();
  const wallStart = Date.now(); // progress lines carry wall time
  const total = new Counts();
  let window = new Counts();
  let windowEnd = start + flags.reportMs;
  // Prints every window that ended before `now`, empty ones too (a stall is worth seeing).
  const flushWindows = (now) => {
    while (now >= windowEnd) {
      const line = window.toJson();
      line.start = (wallStart + windowEnd - flags.reportMs - start) / 1000;
      line.end = (wallStart + windowEnd - start) / 1000;
      console.log(JSON.stringify(line));
      window = new Counts();
      windowEnd += flags.reportMs;
    }
  };

  const timed = flags.durationS > 0;
  const endAt = start + flags.durationS * 1000;
  const more = (i) => (timed ? performance.now() < endAt : i < flags.calls);
  for (let i = 0; more(i); ++i) {
    const [err, reply] = await call(i);
    total.add(err, reply);
    if (timed) {
      flushWindows(performance.now()); // a call counts in the window in which it finished
      window.add(err, reply);
    }
    if (flags.intervalMs > 0) await sleep(flags.intervalMs);
  }
  if (timed && window.codes.size > 0) flushWindows(windowEnd); // the last partial one
  client.close();
  // The xDS client keeps its ADS stream (and so the event loop) alive: exit explicitly,
  // after stdout has taken the line.
  process.stdout.write(JSON.stringify(total.toJson()) + '\n', () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(`node_client: ${e.stack ?? e}\n`);
  process.exit(1);
});
