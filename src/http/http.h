// http.h: all that other subsystems see of src/http/: an HTTP/1.1 server.
//
// Model: `workers` event-loop threads, each owning its connections from read to write. A
// request is parsed, handed to the Handler and answered on the thread that read it; nothing
// hops threads. Keep-alive and pipelining are supported: pipelined requests are handled in
// order and their responses leave in one write when they arrived together.
//
// Limits enforced before the handler runs: request head size (431), body size (413 with the
// body from Options::body_too_large), request and idle timeouts, connection count. Malformed
// requests get a 400 and the connection is closed; a worker never crashes or hangs on input.
//
// Asio and Beast stay inside src/http/*.cc: this header includes neither.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalamdb::http {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kOther };

// One parsed request. Every string_view borrows the connection's buffers and stays valid only
// for the duration of the Handler call.
struct Request {
  Method method = Method::kOther;
  std::string_view target;  // as sent: path plus optional "?query"
  std::string_view path;    // target up to '?'
  std::string_view query;   // after '?', without it; empty when absent
  std::string_view body;
  // Header fields in arrival order; names as sent.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  // The TCP peer's address as text ("127.0.0.1", "::1") and whether it is a loopback address.
  std::string_view peer_ip;
  bool peer_is_loopback = false;
  // Nanoseconds (steady clock) when the first byte of this request was read.
  int64_t start_ns = 0;
  // Nanoseconds (steady clock) when its last byte was read, when the request arrived in more
  // than one read (a slow or split upload); 0 when it arrived whole in its first read.
  int64_t complete_ns = 0;

  // First header named `name` (ASCII case-insensitive), or empty.
  std::string_view Header(std::string_view name) const;
};

// The answer to a Request. The server adds Content-Length, Date, Connection and the status
// line, and writes everything as one buffer.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra header fields (Set-Cookie, CORS ...), written in order.
  std::vector<std::pair<std::string, std::string>> headers;
  // W3C `traceparent` of the request's trace (55 characters), written when set; kept out of
  // `headers` so that the traced hot path allocates nothing for it.
  std::array<char, 55> traceparent{};
  bool has_traceparent = false;
  // Close the connection after this response.
  bool close = false;
  // Set by a handler whose answer may leave only once work elsewhere has finished (group
  // commit: one WAL sync shared by several requests). After the handler returns, the server
  // calls `hold(release)` once; `release(true)` (from any thread, exactly once) sends the
  // response, `release(false)` sends a 500 INTERNAL_ERROR in its place and closes. Meanwhile
  // the connection reads no further request and its worker serves its other connections.
  std::function<void(std::function<void(bool ok)> release)> hold;

  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// Called on the connection's own thread for every complete request. Must not block for long:
// it holds up every other connection of its worker.
using Handler = std::function<void(const Request&, Response&)>;

struct Options {
  std::string host = "127.0.0.1";
  // 0 picks a free port (see Server::port()).
  int port = 8080;
  // Event-loop threads; 0 = one per core.
  int workers = 0;
  int backlog = 4096;
  int max_connections = 25000;
  // Largest request head (request line plus headers) in bytes; larger gets 431.
  uint32_t max_header_size = 16384;
  // Largest body in bytes; larger gets 413 with body_too_large(size, max).
  uint64_t max_body_size = 10ull << 20;
  // Seconds a started request may take to arrive completely (408 and close after).
  int request_timeout_seconds = 30;
  // Seconds a keep-alive connection may sit idle before it is closed.
  int keepalive_timeout_seconds = 75;
  // After serving, a worker keeps polling this long before it sleeps in epoll_wait, so a
  // client's next request skips the wake-up latency; 0 disables. Costs CPU only right after
  // work. Default: 0.
  int busy_poll_microseconds = 0;
  // Builds the 413 body (JSON) from the announced size and the limit.
  std::function<std::string(uint64_t size, uint64_t max)> body_too_large;
};

// Server: binds, runs the worker threads, and stops gracefully.
// Thread-safety: Start/Stop/Wait from one controlling thread; the handler runs on workers.
class Server {
 public:
  Server(Options options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then starts the worker threads. Errors: kStorageIo-free; kConfig when
  // the address cannot be bound ("address already in use" ...).
  Status Start();
  // The bound port (useful with port 0). REQUIRES: Start() succeeded.
  int port() const;
  // Graceful stop: stops accepting, lets in-flight requests finish and be answered, closes idle
  // connections, and joins the workers. Waits at most `grace_seconds` for in-flight requests.
  // Safe to call from a signal-watching thread; idempotent.
  void Stop(int grace_seconds = 10);
  // Blocks until the workers have exited (after Stop()).
  void Wait();
  // Connections currently open, summed over workers (approximate while running).
  int64_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Text of a status code's reason phrase ("OK", "Not Found" ...).
std::string_view ReasonPhrase(int status);

}  // namespace kalamdb::http
