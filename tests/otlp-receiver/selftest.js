#!/usr/bin/env node
// Self-test of receiver.js (`npm test`): starts it as a child process, exports spans to it over
// OTLP/gRPC (plain and gzip) and OTLP/HTTP (protobuf and JSON), and checks the control API and
// the hang/refuse/reject modes. Uses node's built-in test runner.

'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const http = require('node:http');
const http2 = require('node:http2');
const path = require('node:path');
const readline = require('node:readline');
const zlib = require('node:zlib');
const { test, before, after } = require('node:test');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const { PROTOS_ROOT } = require('./receiver.js');

const RECEIVER = path.join(__dirname, 'receiver.js');
const SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

// ---------------------------------------------------------------------------------------------
// Clients, built independently of the receiver from the same .proto files.

const grpcDef = protoLoader.loadSync(SERVICE_PROTO, {
  keepCase: false,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTOS_ROOT],
});
const TraceService = grpc.loadPackageDefinition(grpcDef).opentelemetry.proto.collector.trace.v1.TraceService;

const pbRoot = new protobuf.Root();
pbRoot.resolvePath = (_origin, target) => path.join(PROTOS_ROOT, target);
pbRoot.loadSync(SERVICE_PROTO);
pbRoot.resolveAll();
const ExportRequest = pbRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

function startReceiver(args = []) {
  const child = spawn(process.execPath, [RECEIVER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ports = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start in 10 s; stderr: ${stderr}`)), 10000);
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch (e) {
        reject(new Error(`bad first line ${JSON.stringify(line)}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`receiver exited (${code}) before listening; stderr: ${stderr}`));
    });
  });
  return { child, ports, exited, stderr: () => stderr };
}

function waitExit(r, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve({ code: 'timeout' }), ms)));
  return Promise.race([r.exited, timeout]).finally(() => clearTimeout(timer));
}

function request(port, method, urlPath, { body, headers = {}, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ timedOut: true });
    });
    req.on('error', (e) => (req.destroyed && e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}

async function control(method, urlPath) {
  const r = await request(ports.control, method, urlPath);
  assert.equal(r.timedOut, undefined, `control ${method} ${urlPath} timed out`);
  return { status: r.status, json: JSON.parse(r.body.toString('utf8')) };
}

function grpcExport(client, req, deadlineMs = 5000) {
  return new Promise((resolve) => {
    const started = Date.now();
    client.Export(req, { deadline: Date.now() + deadlineMs }, (err, res) => {
      resolve({ err, res, elapsedMs: Date.now() - started });
    });
  });
}

function httpExportProto(req, extra = {}) {
  const body = Buffer.from(ExportRequest.encode(ExportRequest.fromObject(req)).finish());
  return request(ports.http, 'POST', '/v1/traces', {
    body,
    headers: { 'Content-Type': 'application/x-protobuf' },
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------------
// Test data

const str = (s) => ({ stringValue: s });
const kv = (key, value) => ({ key, value });

function makeSpan(name, { parent = true } = {}) {
  return {
    traceId: crypto.randomBytes(16),
    spanId: crypto.randomBytes(8),
    parentSpanId: parent ? crypto.randomBytes(8) : Buffer.alloc(0),
    name,
    kind: 2, // SERVER
    startTimeUnixNano: '1700000000123456789',
    endTimeUnixNano: '1700000000223456789',
    attributes: [
      kv('db.system', str('kalamdb')),
      kv('ok', { boolValue: true }),
      kv('rows', { intValue: '42' }),
      kv('neg', { intValue: '-7' }),
      kv('big', { intValue: '9007199254740993' }), // 2^53 + 1: not a safe integer
      kv('ratio', { doubleValue: 0.25 }),
      kv('list', { arrayValue: { values: [str('a'), { intValue: '1' }, { boolValue: false }] } }),
      kv('map', { kvlistValue: { values: [kv('inner', str('x')), kv('n', { doubleValue: 1.5 })] } }),
    ],
    droppedAttributesCount: 3,
    events: [{ name: 'exception', timeUnixNano: '1700000000150000000', attributes: [kv('exception.message', str('boom'))] }],
    status: { code: 2, message: 'it failed' },
  };
}

function wrap(span, serviceName) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', str(serviceName)), kv('pid', { intValue: '1234' })] },
        scopeSpans: [{ scope: { name: 'kalamdb.selftest', version: '1.2.3' }, spans: [span] }],
      },
    ],
  };
}

const hex = (b) => Buffer.from(b).toString('hex');

function assertSpan(got, sent, transport, serviceName) {
  assert.ok(got, `span ${sent.name} not found`);
  assert.equal(got.transport, transport);
  assert.deepEqual(got.resource, { 'service.name': serviceName, pid: 1234 });
  assert.deepEqual(got.scope, { name: 'kalamdb.selftest', version: '1.2.3' });
  assert.match(got.traceId, /^[0-9a-f]{32}$/);
  assert.match(got.spanId, /^[0-9a-f]{16}$/);
  assert.equal(got.traceId, hex(sent.traceId));
  assert.equal(got.spanId, hex(sent.spanId));
  assert.equal(got.parentSpanId, hex(sent.parentSpanId));
  assert.equal(got.name, sent.name);
  assert.equal(got.kind, 2);
  assert.equal(got.startTimeUnixNano, '1700000000123456789');
  assert.equal(got.endTimeUnixNano, '1700000000223456789');
  assert.deepEqual(got.attributes, {
    'db.system': 'kalamdb',
    ok: true,
    rows: 42,
    neg: -7,
    big: '9007199254740993',
    ratio: 0.25,
    list: ['a', 1, false],
    map: { inner: 'x', n: 1.5 },
  });
  assert.deepEqual(got.events, [
    { name: 'exception', timeUnixNano: '1700000000150000000', attributes: { 'exception.message': 'boom' } },
  ]);
  assert.deepEqual(got.status, { code: 2, message: 'it failed' });
  assert.equal(got.droppedAttributesCount, 3);
}

// ---------------------------------------------------------------------------------------------
// Tests (run in order, sharing one receiver)

let receiver;
let ports;
let client;
let gzipClient;

before(async () => {
  receiver = startReceiver();
  ports = await receiver.ports;
  for (const k of ['grpc', 'http', 'control']) assert.ok(Number.isInteger(ports[k]) && ports[k] > 0, `port ${k}`);
  const addr = `127.0.0.1:${ports.grpc}`;
  client = new TraceService(addr, grpc.credentials.createInsecure());
  gzipClient = new TraceService(addr, grpc.credentials.createInsecure(), {
    'grpc.default_compression_algorithm': 2, // gzip
    'grpc.default_compression_level': 2,
  });
});

after(async () => {
  if (client) client.close();
  if (gzipClient) gzipClient.close();
  if (receiver && receiver.child.exitCode === null) receiver.child.kill('SIGKILL');
});

test('health', async () => {
  assert.deepEqual(await control('GET', '/health'), { status: 200, json: { ok: true } });
});

test('gRPC export is stored with hex ids', async () => {
  const span = makeSpan('grpc-span');
  const r = await grpcExport(client, wrap(span, 'svc-grpc'));
  assert.equal(r.err, null, r.err && r.err.message);
  const { json } = await control('GET', '/spans');
  assertSpan(json.spans.find((s) => s.name === 'grpc-span'), span, 'grpc', 'svc-grpc');
  const ex = json.exports.filter((e) => e.transport === 'grpc');
  assert.equal(ex.length, 1);
  assert.equal(ex[0].spanCount, 1);
  assert.ok(ex[0].bytes > 0);
  assert.ok(Math.abs(ex[0].receivedAtMs - Date.now()) < 60000);
});

test('HTTP protobuf export is stored with hex ids', async () => {
  const span = makeSpan('http-span');
  const r = await httpExportProto(wrap(span, 'svc-http'));
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/x-protobuf/);
  assert.equal(r.body.length, 0); // empty ExportTraceServiceResponse
  const { json } = await control('GET', '/spans');
  assertSpan(json.spans.find((s) => s.name === 'http-span'), span, 'http', 'svc-http');
  assert.equal(json.exports.filter((e) => e.transport === 'http').length, 1);
  assert.equal(json.spans.length, 2);
});

test('HTTP JSON export (hex ids) and gzip', async () => {
  const span = makeSpan('json-span');
  const req = wrap(
    { ...span, traceId: hex(span.traceId).toUpperCase(), spanId: hex(span.spanId), parentSpanId: hex(span.parentSpanId) },
    'svc-json',
  );
  const body = zlib.gzipSync(Buffer.from(JSON.stringify(req)));
  const r = await request(ports.http, 'POST', '/v1/traces', {
    body,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Encoding': 'gzip' },
  });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.deepEqual(JSON.parse(r.body.toString()), {});
  const { json } = await control('GET', '/spans');
  assertSpan(json.spans.find((s) => s.name === 'json-span'), span, 'http', 'svc-json');
  assert.equal(json.exports.at(-1).encoding, 'gzip');
});

test('gRPC gzip-compressed export (grpc-js client option)', async () => {
  const span = makeSpan('grpc-gzip-span', { parent: false });
  const r = await grpcExport(gzipClient, wrap(span, 'svc-grpc'));
  assert.equal(r.err, null, r.err && r.err.message);
  const { json } = await control('GET', '/spans');
  const got = json.spans.find((s) => s.name === 'grpc-gzip-span');
  assert.ok(got);
  assert.equal(got.parentSpanId, '');
  assert.equal(got.traceId, hex(span.traceId));
});

// A hand-made gRPC call over plain HTTP/2 whose message is gzip-compressed (flag byte 1), as a
// non-grpc-js exporter would send it: the receiver must accept it.
test('gRPC gzip-compressed export (raw HTTP/2 frame)', async () => {
  const span = makeSpan('raw-gzip-span');
  const msg = zlib.gzipSync(Buffer.from(ExportRequest.encode(ExportRequest.fromObject(wrap(span, 'svc-raw'))).finish()));
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt8(1, 0);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  const session = http2.connect(`http://127.0.0.1:${ports.grpc}`);
  try {
    const result = await new Promise((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-encoding': 'gzip',
        'grpc-timeout': '5S',
      });
      let headers;
      const chunks = [];
      stream.on('response', (h) => (headers = h));
      stream.on('trailers', (t) => resolve({ headers, trailers: t, body: Buffer.concat(chunks) }));
      stream.on('data', (c) => chunks.push(c));
      stream.on('error', reject);
      stream.end(frame);
    });
    assert.equal(result.headers[':status'], 200);
    assert.equal(String(result.trailers['grpc-status']), '0', String(result.trailers['grpc-message']));
    // Response: one uncompressed frame holding an empty ExportTraceServiceResponse.
    assert.deepEqual([...result.body], [0, 0, 0, 0, 0]);
  } finally {
    session.close();
  }
  const { json } = await control('GET', '/spans');
  assertSpan(json.spans.find((s) => s.name === 'raw-gzip-span'), span, 'grpc', 'svc-raw');
});

test('undecodable bodies get 400', async () => {
  const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]);
  const r1 = await request(ports.http, 'POST', '/v1/traces', { body: garbage, headers: { 'Content-Type': 'application/x-protobuf' } });
  assert.equal(r1.status, 400);
  const r2 = await request(ports.http, 'POST', '/v1/traces', { body: '{not json', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r2.status, 400);
  const r3 = await request(ports.http, 'POST', '/v1/traces', {
    body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz' }] }] }] }),
    headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(r3.status, 400);
  const { json } = await control('GET', '/spans');
  assert.equal(json.errors.length, 3);
});

test('reset clears spans and exports', async () => {
  assert.equal((await control('POST', '/reset')).status, 200);
  const { json } = await control('GET', '/spans');
  assert.deepEqual(json, { spans: [], exports: [], errors: [] });
});

test('bad mode is refused', async () => {
  assert.equal((await control('POST', '/mode?grpc=sleepy')).status, 400);
  assert.deepEqual((await control('GET', '/mode')).json, { grpc: 'ok', http: 'ok' });
});

test('gRPC hang: 300 ms deadline gives DEADLINE_EXCEEDED, span not stored', async () => {
  assert.deepEqual((await control('POST', '/mode?grpc=hang')).json, { grpc: 'hang', http: 'ok' });
  const r = await grpcExport(client, wrap(makeSpan('hung'), 'svc'), 300);
  assert.ok(r.err, 'call should fail');
  assert.equal(r.err.code, grpc.status.DEADLINE_EXCEEDED, r.err.message);
  assert.ok(r.elapsedMs >= 250, `failed after ${r.elapsedMs} ms`);
  const { json } = await control('GET', '/spans');
  assert.equal(json.spans.length, 0);
  assert.equal(json.exports.length, 1);
  assert.equal(json.exports[0].transport, 'grpc');
  assert.equal(json.exports[0].mode, 'hang');
  assert.equal(json.exports[0].spanCount, 1);
});

test('gRPC refuse gives UNAVAILABLE, reject gives INVALID_ARGUMENT', async () => {
  await control('POST', '/mode?grpc=refuse');
  const r1 = await grpcExport(client, wrap(makeSpan('refused'), 'svc'));
  assert.ok(r1.err);
  assert.equal(r1.err.code, grpc.status.UNAVAILABLE, r1.err.message);
  await control('POST', '/mode?grpc=reject');
  const r2 = await grpcExport(client, wrap(makeSpan('rejected'), 'svc'));
  assert.ok(r2.err);
  assert.equal(r2.err.code, grpc.status.INVALID_ARGUMENT, r2.err.message);
  const { json } = await control('GET', '/spans');
  assert.equal(json.spans.length, 0);
  assert.deepEqual(
    json.exports.map((e) => [e.transport, e.mode, e.spanCount]),
    [['grpc', 'hang', 1], ['grpc', 'refuse', 1], ['grpc', 'reject', 1]],
  );
});

test('HTTP hang keeps the request open, refuse gives 503, reject gives 400', async () => {
  await control('POST', '/mode?grpc=ok&http=hang');
  const r1 = await httpExportProto(wrap(makeSpan('hung-http'), 'svc'), { timeoutMs: 300 });
  assert.equal(r1.timedOut, true, `expected no answer, got ${r1.status}`);
  await control('POST', '/mode?http=refuse');
  assert.equal((await httpExportProto(wrap(makeSpan('refused-http'), 'svc'))).status, 503);
  await control('POST', '/mode?http=reject');
  assert.equal((await httpExportProto(wrap(makeSpan('rejected-http'), 'svc'))).status, 400);
  const { json } = await control('GET', '/spans');
  assert.equal(json.spans.length, 0);
  assert.deepEqual(
    json.exports.filter((e) => e.transport === 'http').map((e) => [e.mode, e.spanCount]),
    [['hang', 1], ['refuse', 1], ['reject', 1]],
  );
});

test('back to ok; GET /spans?min=N waits for spans', async () => {
  await control('POST', '/mode?grpc=ok&http=ok');
  const waiting = control('GET', '/spans?min=1&timeoutMs=5000');
  await new Promise((r) => setTimeout(r, 100));
  const span = makeSpan('late');
  assert.equal((await grpcExport(client, wrap(span, 'svc'))).err, null);
  const { json } = await waiting;
  assert.equal(json.spans.length, 1);
  assert.equal(json.spans[0].spanId, hex(span.spanId));
  const t0 = Date.now();
  const { json: j2 } = await control('GET', '/spans?min=5&timeoutMs=200');
  assert.equal(j2.spans.length, 1);
  assert.ok(Date.now() - t0 >= 150);
});

test('receiver exits when its stdin closes', async () => {
  receiver.child.stdin.end();
  const { code } = await waitExit(receiver, 5000);
  assert.equal(code, 0, receiver.stderr());
});

test('receiver exits cleanly on SIGTERM, with fixed ports', async () => {
  const other = startReceiver(['--control-port', '0', '--http-port=0']);
  const p = await other.ports;
  assert.deepEqual((await request(p.control, 'GET', '/health')).status, 200);
  other.child.kill('SIGTERM');
  const { code } = await waitExit(other, 5000);
  assert.equal(code, 0, other.stderr());
});
