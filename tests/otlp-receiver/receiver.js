#!/usr/bin/env node
// OTLP trace receiver for end-to-end tests.
//
// Listens on 127.0.0.1 for OTLP/gRPC (TraceService/Export) and OTLP/HTTP (POST /v1/traces,
// protobuf or JSON), stores every received span in a normalized form and serves them on a
// small JSON control API. See README.md next to this file.
//
//   node receiver.js [--grpc-port P] [--http-port Q] [--control-port C] [--ignore-stdin]
//                    [--count-only]   (benchmarks: count spans, keep none)
//
// Once all three servers listen, exactly one line is printed on stdout:
//   {"grpc":P,"http":Q,"control":C}
// Diagnostics go to stderr. The process exits on SIGTERM/SIGINT and when its stdin is closed.

'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const HOST = '127.0.0.1';
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const MODES = ['ok', 'hang', 'refuse', 'reject'];

const TRACE_SERVICE = 'opentelemetry.proto.collector.trace.v1.TraceService';
const TRACE_SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
const EXPORT_REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';
const EXPORT_RESPONSE = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse';

// ---------------------------------------------------------------------------------------------
// Protos: the official OpenTelemetry .proto files shipped by @opentelemetry/otlp-grpc-exporter-base.

function protosRoot() {
  const pkgJson = require.resolve('@opentelemetry/otlp-grpc-exporter-base/package.json');
  const root = path.join(path.dirname(pkgJson), 'build', 'protos');
  if (!fs.existsSync(path.join(root, TRACE_SERVICE_PROTO))) {
    throw new Error(`OTLP protos not found under ${root}`);
  }
  return root;
}

const PROTOS_ROOT = protosRoot();

// Shared by the gRPC server here and the gRPC client in selftest.js.
const PROTO_LOADER_OPTIONS = {
  keepCase: false, // camelCase field names, as in OTLP/JSON
  longs: String, // fixed64 / int64 as decimal strings
  enums: Number,
  bytes: Buffer, // trace/span ids arrive as Buffers
  defaults: true,
  oneofs: true, // AnyValue gets a `value` member naming the set oneof field
  includeDirs: [PROTOS_ROOT],
};

// Options for protobufjs' toObject, giving the same shape as proto-loader with the options above.
// (bytes is left unset: under Node, protobufjs decodes bytes fields as Buffers and keeps them.)
const TO_OBJECT_OPTIONS = { longs: String, enums: Number, defaults: true, oneofs: true };

function loadGrpcDefinition() {
  return protoLoader.loadSync(TRACE_SERVICE_PROTO, PROTO_LOADER_OPTIONS);
}

function loadProtobufRoot() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTOS_ROOT, target));
  root.loadSync(TRACE_SERVICE_PROTO, { keepCase: false });
  root.resolveAll();
  return root;
}

// ---------------------------------------------------------------------------------------------
// Normalization: ExportTraceServiceRequest (as a plain camelCase object) -> flat span records.

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

class BadRequest extends Error {}

function idToHex(v, what) {
  if (v === undefined || v === null) return '';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return Buffer.from(v).toString('hex');
  if (typeof v === 'string') {
    // OTLP/JSON: ids are hex strings (not base64 as in the generic proto3 JSON mapping).
    if (!/^([0-9a-fA-F]{2})*$/.test(v)) throw new BadRequest(`${what} is not a hex string: ${JSON.stringify(v)}`);
    return v.toLowerCase();
  }
  throw new BadRequest(`${what} has unexpected type ${typeof v}`);
}

function uint64String(v, what) {
  if (v === undefined || v === null || v === '') return '0';
  let b;
  try {
    if (typeof v === 'object' && typeof v.toString === 'function') v = v.toString(); // Long
    if (typeof v === 'number' && !Number.isInteger(v)) throw new Error('not an integer');
    b = BigInt(v);
  } catch (e) {
    throw new BadRequest(`${what} is not an integer: ${JSON.stringify(v)}`);
  }
  if (b < 0n || b > UINT64_MAX) throw new BadRequest(`${what} out of range: ${v}`);
  return b.toString();
}

function uint32(v) {
  if (v === undefined || v === null) return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

function int64Value(v) {
  let b;
  try {
    if (typeof v === 'object' && v !== null && typeof v.toString === 'function') v = v.toString();
    if (typeof v === 'number' && !Number.isInteger(v)) throw new Error('not an integer');
    b = BigInt(v);
  } catch (e) {
    throw new BadRequest(`intValue is not an integer: ${JSON.stringify(v)}`);
  }
  if (b < INT64_MIN || b >= -INT64_MIN) throw new BadRequest(`intValue out of int64 range: ${v}`);
  const n = Number(b);
  return Number.isSafeInteger(n) ? n : b.toString();
}

function doubleValue(v) {
  const n = typeof v === 'number' ? v : Number(v); // OTLP/JSON may send "NaN", "Infinity"
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return n;
}

function bytesValue(v) {
  if (typeof v === 'string') return v; // OTLP/JSON: already base64
  return Buffer.from(v).toString('base64');
}

const ANY_VALUE_FIELDS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];

// AnyValue -> plain JSON. An AnyValue with no value set becomes null.
function flattenAnyValue(av) {
  if (av === undefined || av === null) return null;
  let which = typeof av.value === 'string' && ANY_VALUE_FIELDS.includes(av.value) ? av.value : undefined;
  if (!which) which = ANY_VALUE_FIELDS.find((f) => av[f] !== undefined && av[f] !== null);
  switch (which) {
    case 'stringValue':
      return String(av.stringValue);
    case 'boolValue':
      return Boolean(av.boolValue);
    case 'intValue':
      return int64Value(av.intValue);
    case 'doubleValue':
      return doubleValue(av.doubleValue);
    case 'arrayValue':
      return asArray(av.arrayValue && av.arrayValue.values, 'arrayValue.values').map(flattenAnyValue);
    case 'kvlistValue':
      return flattenKeyValues(av.kvlistValue && av.kvlistValue.values);
    case 'bytesValue':
      return bytesValue(av.bytesValue);
    default:
      return null;
  }
}

function flattenKeyValues(kvs) {
  const out = {};
  for (const kv of asArray(kvs, 'attributes')) {
    if (!kv || typeof kv.key !== 'string') throw new BadRequest('KeyValue without a string key');
    out[kv.key] = flattenAnyValue(kv.value);
  }
  return out;
}

function asArray(v, what) {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BadRequest(`${what} is not an array`);
  return v;
}

function enumNumber(v, enumType, what) {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    if (/^-?\d+$/.test(v)) return Number(v);
    if (enumType && Object.prototype.hasOwnProperty.call(enumType.values, v)) return enumType.values[v];
  }
  throw new BadRequest(`${what} is not a valid enum value: ${JSON.stringify(v)}`);
}

// Yields {resource, scope, span} for every span in the request, including the deprecated
// instrumentationLibrarySpans form (field 1000) that these protos still carry.
function* eachSpan(req) {
  if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new BadRequest('request is not an object');
  for (const rs of asArray(req.resourceSpans, 'resourceSpans')) {
    if (!rs || typeof rs !== 'object') throw new BadRequest('resourceSpans entry is not an object');
    const resource = rs.resource || {};
    const groups = [];
    for (const ss of asArray(rs.scopeSpans, 'scopeSpans')) groups.push([ss && ss.scope, ss]);
    for (const ils of asArray(rs.instrumentationLibrarySpans, 'instrumentationLibrarySpans')) {
      groups.push([ils && ils.instrumentationLibrary, ils]);
    }
    for (const [scope, group] of groups) {
      if (!group || typeof group !== 'object') throw new BadRequest('scopeSpans entry is not an object');
      for (const span of asArray(group.spans, 'spans')) {
        if (!span || typeof span !== 'object') throw new BadRequest('span is not an object');
        yield { resource, scope: scope || {}, span };
      }
    }
  }
}

function countSpans(req) {
  let n = 0;
  for (const _ of eachSpan(req)) n++; // eslint-disable-line no-unused-vars
  return n;
}

function normalizeRequest(req, transport, enums) {
  const spans = [];
  for (const { resource, scope, span } of eachSpan(req)) {
    const status = span.status || {};
    spans.push({
      transport,
      resource: flattenKeyValues(resource.attributes),
      scope: { name: scope.name || '', version: scope.version || '' },
      traceId: idToHex(span.traceId, 'traceId'),
      spanId: idToHex(span.spanId, 'spanId'),
      parentSpanId: idToHex(span.parentSpanId, 'parentSpanId'),
      traceState: span.traceState || '',
      name: span.name || '',
      kind: enumNumber(span.kind, enums.spanKind, 'kind'),
      startTimeUnixNano: uint64String(span.startTimeUnixNano, 'startTimeUnixNano'),
      endTimeUnixNano: uint64String(span.endTimeUnixNano, 'endTimeUnixNano'),
      attributes: flattenKeyValues(span.attributes),
      events: asArray(span.events, 'events').map((ev) => ({
        name: (ev && ev.name) || '',
        timeUnixNano: uint64String(ev && ev.timeUnixNano, 'timeUnixNano'),
        attributes: flattenKeyValues(ev && ev.attributes),
      })),
      links: asArray(span.links, 'links').map((ln) => ({
        traceId: idToHex(ln && ln.traceId, 'links.traceId'),
        spanId: idToHex(ln && ln.spanId, 'links.spanId'),
        traceState: (ln && ln.traceState) || '',
        attributes: flattenKeyValues(ln && ln.attributes),
      })),
      status: { code: enumNumber(status.code, enums.statusCode, 'status.code'), message: status.message || '' },
      droppedAttributesCount: uint32(span.droppedAttributesCount),
      droppedEventsCount: uint32(span.droppedEventsCount),
      droppedLinksCount: uint32(span.droppedLinksCount),
    });
  }
  return spans;
}

// OTLP/JSON keys are lowerCamelCase; be lenient and also accept the original snake_case names.
// Only object keys are field names in OTLP JSON (attribute keys are values), so this is safe.
function camelCaseKeys(v) {
  if (Array.isArray(v)) return v.map(camelCaseKeys);
  if (v === null || typeof v !== 'object') return v;
  const out = {};
  for (const [k, val] of Object.entries(v)) {
    out[k.replace(/_([a-z0-9])/g, (_m, c) => c.toUpperCase())] = camelCaseKeys(val);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  spans: [],
  exports: [],
  errors: [],
  mode: { grpc: 'ok', http: 'ok' },
  waiters: new Set(), // pending GET /spans?min=N long-polls
};

function notifyWaiters() {
  for (const w of [...state.waiters]) w.check();
}

// --count-only: spans are counted, not stored.
let countOnly = false;
let countedSpans = 0;

function recordError(transport, message, bytes) {
  state.errors.push({ transport, error: message, bytes, receivedAtMs: Date.now() });
}

// Decoded request -> record it under the current mode. Returns the mode that applies.
function accept(transport, req, bytes, encoding, enums) {
  const mode = state.mode[transport];
  const record = (spanCount) => {
    const rec = { transport, mode, spanCount, bytes, receivedAtMs: Date.now() };
    if (encoding !== undefined) rec.encoding = encoding;
    state.exports.push(rec);
  };
  if (mode !== 'ok') {
    record(countSpans(req));
    notifyWaiters();
    return mode;
  }
  if (countOnly) {
    // Benchmarks: accept and count requests and bytes, keep nothing; protobuf spans are not
    // decoded (GET /spans then lists only the latest export).
    const n = req.countOnly ? 0 : countSpans(req);
    state.exports.length = 0;
    countedSpans += n;
    record(n);
    state.exports[0].totalSpans = countedSpans;
    return mode;
  }
  const spans = normalizeRequest(req, transport, enums); // throws BadRequest
  state.spans.push(...spans);
  record(spans.length);
  notifyWaiters();
  return mode;
}

// ---------------------------------------------------------------------------------------------
// OTLP/gRPC

const BYTES = Symbol('otlpBytes');

function startGrpc(port, enums) {
  const def = loadGrpcDefinition();
  const serviceDef = def[TRACE_SERVICE];
  const exportDef = serviceDef.Export;
  // Wrap the deserializer to learn the (decompressed) message size and to log decode failures.
  const wrapped = {
    Export: {
      ...exportDef,
      requestDeserialize(buf) {
        // --count-only: no decode at all (benchmarks measure the exporter, not this receiver).
        if (countOnly) return { [BYTES]: buf.length, countOnly: true };
        try {
          const obj = exportDef.requestDeserialize(buf);
          Object.defineProperty(obj, BYTES, { value: buf.length, enumerable: false });
          return obj;
        } catch (e) {
          recordError('grpc', `undecodable ExportTraceServiceRequest: ${e.message}`, buf.length);
          throw e;
        }
      },
    },
  };
  const pending = new Set();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  });
  server.addService(wrapped, {
    Export(call, callback) {
      const req = call.request;
      // grpc-js decompresses (gzip/deflate) before the deserializer and strips grpc-encoding from
      // the metadata, so gRPC export records carry no `encoding`.
      let mode;
      try {
        mode = accept('grpc', req, req[BYTES] || 0, undefined, enums);
      } catch (e) {
        const bad = e instanceof BadRequest;
        recordError('grpc', bad ? e.message : `internal error: ${e.stack || e}`, req[BYTES] || 0);
        callback({ code: bad ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL, details: e.message });
        return;
      }
      switch (mode) {
        case 'ok':
          callback(null, {});
          break;
        case 'hang': // never answer; the client's deadline (or our shutdown) ends the call
          pending.add(call);
          call.on('cancelled', () => pending.delete(call));
          break;
        case 'refuse':
          callback({ code: grpc.status.UNAVAILABLE, details: 'otlp-receiver: mode refuse' });
          break;
        case 'reject':
          callback({ code: grpc.status.INVALID_ARGUMENT, details: 'otlp-receiver: mode reject' });
          break;
      }
    },
  });
  return new Promise((resolve, reject) => {
    server.bindAsync(`${HOST}:${port}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err) reject(new Error(`gRPC bind ${HOST}:${port}: ${err.message}`));
      else resolve({ server, port: boundPort, pending }); // grpc-js >= 1.10 starts by itself
    });
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`HTTP bind ${HOST}:${port}: ${e.message}`)));
    server.listen(port, HOST, () => resolve(server.address().port));
  });
}

function sendJson(res, status, obj) {
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

// ---------------------------------------------------------------------------------------------
// OTLP/HTTP

function mediaType(req) {
  return String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
}

// google.rpc.Status {int32 code = 1; string message = 2;}, the OTLP/HTTP error body.
function encodeRpcStatus(code, message) {
  return protobuf.Writer.create().uint32(8).int32(code).uint32(18).string(message).finish();
}

function startHttp(port, root, enums) {
  const RequestType = root.lookupType(EXPORT_REQUEST);
  const ResponseType = root.lookupType(EXPORT_RESPONSE);
  const emptyResponse = Buffer.from(ResponseType.encode(ResponseType.create({})).finish());

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/v1/traces') return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    const type = mediaType(req);
    const isProto = type === 'application/x-protobuf' || type === 'application/protobuf';
    const isJson = type === 'application/json';

    const reply = (status, grpcCode, message) => {
      if (isProto) {
        const body = status === 200 ? emptyResponse : Buffer.from(encodeRpcStatus(grpcCode, message));
        res.writeHead(status, { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length });
        res.end(body);
      } else if (status === 200) {
        sendJson(res, 200, {});
      } else {
        sendJson(res, status, { code: grpcCode, message });
      }
    };

    let body;
    try {
      body = await readBody(req, MAX_MESSAGE_BYTES);
    } catch (e) {
      return sendJson(res, e.status || 400, { error: e.message });
    }
    if (!isProto && !isJson) {
      recordError('http', `unsupported content type ${JSON.stringify(type)}`, body.length);
      return sendJson(res, 415, { error: `unsupported content type ${JSON.stringify(type)}` });
    }
    const encoding = String(req.headers['content-encoding'] || 'identity').trim().toLowerCase();
    let decoded;
    let obj;
    try {
      if (encoding === 'gzip') decoded = zlib.gunzipSync(body);
      else if (encoding === 'deflate') decoded = zlib.inflateSync(body);
      else if (encoding === 'identity' || encoding === '') decoded = body;
      else throw new BadRequest(`unsupported content encoding ${JSON.stringify(encoding)}`);
      if (isProto && countOnly) {
        // --count-only: no decode at all, as on gRPC (benchmarks measure the exporter).
        obj = { countOnly: true };
      } else if (isProto) {
        obj = RequestType.toObject(RequestType.decode(decoded), TO_OBJECT_OPTIONS);
      } else {
        obj = camelCaseKeys(JSON.parse(decoded.toString('utf8')));
      }
    } catch (e) {
      recordError('http', `undecodable body: ${e.message}`, body.length);
      return reply(400, grpc.status.INVALID_ARGUMENT, `undecodable body: ${e.message}`);
    }
    let mode;
    try {
      mode = accept('http', obj, decoded.length, encoding === '' ? 'identity' : encoding, enums);
    } catch (e) {
      if (!(e instanceof BadRequest)) {
        recordError('http', `internal error: ${e.stack || e}`, body.length);
        return reply(500, grpc.status.INTERNAL, e.message);
      }
      recordError('http', e.message, body.length);
      return reply(400, grpc.status.INVALID_ARGUMENT, e.message);
    }
    switch (mode) {
      case 'ok':
        return reply(200);
      case 'hang': // keep the socket open and never answer
        return undefined;
      case 'refuse':
        return reply(503, grpc.status.UNAVAILABLE, 'otlp-receiver: mode refuse');
      case 'reject':
        return reply(400, grpc.status.INVALID_ARGUMENT, 'otlp-receiver: mode reject');
    }
    return undefined;
  });
  server.requestTimeout = 0; // a hung exporter request must not be answered with 408
  return listen(server, port).then((p) => ({ server, port: p }));
}

// ---------------------------------------------------------------------------------------------
// Control API

function startControl(port) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const route = `${req.method} ${url.pathname}`;
    try {
      await readBody(req, 1024 * 1024);
    } catch (e) {
      return sendJson(res, e.status || 400, { error: e.message });
    }
    switch (route) {
      case 'GET /health':
        return sendJson(res, 200, { ok: true });
      case 'GET /spans':
        return getSpans(url, req, res);
      case 'POST /reset':
        state.spans = [];
        state.exports = [];
        state.errors = [];
        state.mode = { grpc: 'ok', http: 'ok' };
        return sendJson(res, 200, { ok: true });
      case 'GET /mode':
        return sendJson(res, 200, state.mode);
      case 'POST /mode': {
        const next = { ...state.mode };
        for (const t of ['grpc', 'http']) {
          const m = url.searchParams.get(t);
          if (m === null) continue;
          if (!MODES.includes(m)) return sendJson(res, 400, { error: `bad ${t} mode ${JSON.stringify(m)}; one of ${MODES.join(', ')}` });
          next[t] = m;
        }
        state.mode = next;
        return sendJson(res, 200, state.mode);
      }
      default:
        return sendJson(res, 404, { error: `no route ${route}` });
    }
  });
  return listen(server, port).then((p) => ({ server, port: p }));
}

// GET /spans[?min=N[&timeoutMs=T]]: with min, waits until at least N spans are stored or T ms
// (default 5000) have passed, then answers as usual; the caller checks the count.
function getSpans(url, req, res) {
  const snapshot = () => ({ spans: state.spans, exports: state.exports, errors: state.errors });
  const min = Number(url.searchParams.get('min') || 0);
  if (!(min > 0) || state.spans.length >= min) return sendJson(res, 200, snapshot());
  const timeoutMs = Math.min(Number(url.searchParams.get('timeoutMs') || 5000), 600000);
  const waiter = {
    check() {
      if (state.spans.length >= min) finish();
    },
  };
  const timer = setTimeout(finish, timeoutMs);
  function finish() {
    if (!state.waiters.delete(waiter)) return;
    clearTimeout(timer);
    sendJson(res, 200, snapshot());
  }
  state.waiters.add(waiter);
  res.on('close', () => {
    state.waiters.delete(waiter);
    clearTimeout(timer);
  });
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Main

function parseArgs(argv) {
  const opts = { grpcPort: 0, httpPort: 0, controlPort: 0, watchStdin: true };
  const names = { '--grpc-port': 'grpcPort', '--http-port': 'httpPort', '--control-port': 'controlPort' };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--ignore-stdin') {
      opts.watchStdin = false;
      continue;
    }
    if (arg === '--count-only') {
      countOnly = true;
      continue;
    }
    if (arg === '-h' || arg === '--help') {
      process.stdout.write('usage: node receiver.js [--grpc-port P] [--http-port Q] [--control-port C] [--ignore-stdin] [--count-only]\n');
      process.exit(0);
    }
    if (!names[arg]) throw new Error(`unknown argument ${argv[i]}`);
    if (value === undefined) value = argv[++i];
    const port = Number(value);
    if (value === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`${arg} needs a port number 0..65535, got ${JSON.stringify(value)}`);
    }
    opts[names[arg]] = port;
  }
  return opts;
}

// Only watch stdin when it can actually signal the parent going away (pipe, socket or TTY);
// a /dev/null or regular-file stdin is at EOF at once and must not stop the receiver.
function stdinIsWatchable() {
  try {
    const st = fs.fstatSync(0);
    return st.isFIFO() || st.isSocket() || require('tty').isatty(0);
  } catch (e) {
    return false;
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`otlp-receiver: ${e.message}\n`);
    process.exit(2);
  }

  const root = loadProtobufRoot();
  const enums = {
    spanKind: root.lookupEnum('opentelemetry.proto.trace.v1.Span.SpanKind'),
    statusCode: root.lookupEnum('opentelemetry.proto.trace.v1.Status.StatusCode'),
  };

  const servers = {};
  let stopping = false;
  const shutdown = (why, code = 0) => {
    if (stopping) return;
    stopping = true;
    if (why) process.stderr.write(`otlp-receiver: stopping (${why})\n`);
    for (const w of [...state.waiters]) state.waiters.delete(w);
    if (servers.grpc) servers.grpc.server.forceShutdown();
    for (const k of ['http', 'control']) {
      if (servers[k]) {
        servers[k].server.close();
        servers[k].server.closeAllConnections();
      }
    }
    // Exit at once: nothing is buffered (stdout to a pipe is synchronous on Linux).
    process.exit(code);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (opts.watchStdin && stdinIsWatchable()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('close', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }

  try {
    servers.grpc = await startGrpc(opts.grpcPort, enums);
    servers.http = await startHttp(opts.httpPort, root, enums);
    servers.control = await startControl(opts.controlPort);
  } catch (e) {
    process.stderr.write(`otlp-receiver: ${e.message}\n`);
    shutdown(null, 1);
    return;
  }
  const line = JSON.stringify({ grpc: servers.grpc.port, http: servers.http.port, control: servers.control.port });
  process.stdout.write(`${line}\n`);
}

module.exports = { PROTOS_ROOT, PROTO_LOADER_OPTIONS, TRACE_SERVICE_PROTO, EXPORT_REQUEST, loadGrpcDefinition, loadProtobufRoot };

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`otlp-receiver: ${e.stack || e}\n`);
    process.exit(1);
  });
}
