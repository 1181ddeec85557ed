// server.cc: the HTTP/1.1 server on Asio, with our own request parser (request_parser.h).
//
// This is the only translation unit that includes Asio (a WebSocket upgrade will be the
// second). Each worker thread runs its own io_context; the acceptor lives on worker 0 and
// places new sockets on workers by load (PickWorker). A connection is one C++20 coroutine that
// loops: parse every complete request already buffered, answer each into one output buffer, write
// it, read more. A per-worker sweep timer enforces idle, request and write timeouts.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "http/http.h"
#include "http/request_parser.h"

namespace kalamdb::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Method ToMethod(std::string_view method) {
  switch (method.size()) {
    case 3:
      if (method == "GET") return Method::kGet;
      if (method == "PUT") return Method::kPut;
      break;
    case 4:
      if (method == "POST") return Method::kPost;
      if (method == "HEAD") return Method::kHead;
      break;
    case 5:
      if (method == "PATCH") return Method::kPatch;
      break;
    case 6:
      if (method == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (method == "OPTIONS") return Method::kOptions;
      break;
  }
  return Method::kOther;
}

// A connection's receive buffer: unparsed bytes are [begin, end). Views handed out stay valid
// until the next Reserve(), which may move or reallocate the bytes.
class InBuffer {
 public:
  std::string_view View() const { return {data_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Makes at least `min_free` bytes writable after the data, compacting or growing.
  void Reserve(size_t min_free) {
    if (capacity_ - end_ >= min_free) return;
    size_t used = end_ - begin_;
    if (begin_ > 0 && capacity_ - used >= min_free) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      size_t capacity = std::max(capacity_ * 2, used + min_free);
      auto grown = std::make_unique<char[]>(capacity);
      if (used > 0) std::memcpy(grown.get(), data_.get() + begin_, used);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    begin_ = 0;
    end_ = used;
  }
  char* WritePtr() { return data_.get() + end_; }
  size_t Free() const { return capacity_ - end_; }
  void Commit(size_t n) { end_ += n; }
  // Returns memory after a large request once nothing is buffered.
  void ShrinkIfEmpty(size_t keep) {
    if (begin_ == end_ && capacity_ > keep) {
      data_.reset();
      capacity_ = begin_ = end_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// "Date: ..." value, recomputed at most once a second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local char buf[40];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return {buf, len};
}

void AppendUnsigned(std::string& out, uint64_t v) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<size_t>(end - p));
}

// Serialises `response` onto `out`: status line, fixed headers, extras, body.
void AppendResponse(std::string& out, const Response& response, bool keep_alive, bool head) {
  out.append("HTTP/1.1 ");
  AppendUnsigned(out, static_cast<uint64_t>(response.status));
  out.push_back(' ');
  out.append(ReasonPhrase(response.status));
  out.append("\r\nServer: kalamdb\r\nDate: ");
  out.append(HttpDate());
  if (!response.content_type.empty()) {
    out.append("\r\nContent-Type: ");
    out.append(response.content_type);
  }
  out.append("\r\nContent-Length: ");
  AppendUnsigned(out, response.body.size());
  out.append(keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close");
  for (const auto& [name, value] : response.headers) {
    out.append("\r\n");
    out.append(name);
    out.append(": ");
    out.append(value);
  }
  if (response.has_traceparent) {
    out.append("\r\ntraceparent: ");
    out.append(response.traceparent.data(), response.traceparent.size());
  }
  out.append("\r\n\r\n");
  if (!head) out.append(response.body);
}

std::string SimpleJsonError(std::string_view code, std::string_view message) {
  std::string body = "{\"error\":\"";
  body.append(code);
  body.append("\",\"message\":\"");
  body.append(message);  // callers pass fixed ASCII text without quotes
  body.append("\"}");
  return body;
}

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

// Receive buffers start at kReadChunkBytes and are released when idle above kKeepBufferBytes:
// an idle keep-alive connection holds a few KiB, not the size of its largest request.
constexpr size_t kReadChunkBytes = 4096;
constexpr size_t kKeepBufferBytes = 64 * 1024;

class Server::Impl {
 public:
  struct Worker;

  // One TCP connection. Owned by its session coroutine; linked into its worker's list so the
  // sweeper can find it. Touched only on its worker's thread.
  struct Conn {
    explicit Conn(tcp::socket s, Worker* w) : socket(std::move(s)), worker(w) {}
    tcp::socket socket;
    Worker* worker;
    InBuffer in;
    std::string out;
    // Parse state of the request being received.
    RequestHead head;
    size_t scan_from = 0;        // how far the head was searched for its blank line
    uint64_t bytes_wanted = 0;   // head plus body bytes the current request needs
    bool continue_sent = false;  // "100 Continue" answered for the current request
    bool in_chunked_body = false;
    std::string chunked_head;  // a copy of the head while a chunked body arrives
    std::string chunked_body;  // the decoded chunked body
    ChunkedDecoder chunked{0};
    std::string peer_ip;
    bool peer_is_loopback = false;
    // Steady-clock ns of the last completed read or write.
    int64_t last_activity_ns = 0;
    // Steady-clock ns when the current unfinished request started; 0 when none is pending.
    int64_t request_start_ns = 0;
    bool split_request = false;  // the request being read needed more than one read
    // Steady-clock ns when the current write started; 0 when not writing.
    int64_t write_start_ns = 0;
    bool timed_out = false;
    // The hold of the answer last appended to `out` (Response::hold), until it is released,
    // and where that answer starts in `out`.
    std::function<void(std::function<void(bool)>)> hold;
    size_t hold_offset = 0;
    Conn* prev = nullptr;
    Conn* next = nullptr;
  };

  struct Worker {
    asio::io_context ctx{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    std::thread thread;
    Conn* head = nullptr;  // intrusive list of live connections
    bool draining = false;
    std::optional<asio::steady_timer> sweep_timer;
    // Set on the worker's thread by Stop's last step: the sweep must not re-arm after it (a
    // sweep already queued when the timer is cancelled completes without an error).
    bool stopped = false;
    // Nanoseconds this worker spent serving (from a read's completion to the next read),
    // written by the worker only.
    std::atomic<int64_t> busy_ns{0};
    // Share of the last sweep interval spent serving, in permille; read by the acceptor.
    std::atomic<int> load_permille{0};
    int64_t last_sweep_ns = 0;
    int64_t last_busy_ns = 0;
    // Open connections, and those whose answer is held right now (Released); worker thread
    // only.
    int connections = 0;
    int held = 0;
    bool AllHeld() const { return held > 0 && held == connections; }

    void Link(Conn* c) {
      ++connections;
      c->next = head;
      if (head) head->prev = c;
      head = c;
    }
    void Unlink(Conn* c) {
      --connections;
      if (c->prev)
        c->prev->next = c->next;
      else
        head = c->next;
      if (c->next) c->next->prev = c->prev;
      c->prev = c->next = nullptr;
    }
  };

  Impl(Options options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {
    if (!options_.body_too_large) {
      options_.body_too_large = [](uint64_t, uint64_t) {
        return SimpleJsonError("BODY_TOO_LARGE", "Request body too large");
      };
    }
    int n = options_.workers > 0
                ? options_.workers
                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
  }

  Status Start() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec)
      return Status(ErrorCode::kConfig, "server.host: invalid address '" + options_.host + "'");
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
    acceptor_.emplace(workers_[0]->ctx);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(options_.backlog, ec);
    if (ec) {
      return Status(ErrorCode::kConfig, "cannot listen on " + options_.host + ":" +
                                            std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_->local_endpoint().port();
    for (auto& w : workers_) {
      w->guard.emplace(w->ctx.get_executor());
      w->sweep_timer.emplace(w->ctx);
      ArmSweep(*w);
    }
    asio::co_spawn(workers_[0]->ctx, AcceptLoop(), asio::detached);
    for (size_t index = 0; index < workers_.size(); ++index) {
      Worker* raw = workers_[index].get();
      const int64_t spin_ns = int64_t{options_.busy_poll_microseconds} * 1000;
      raw->thread = std::thread([raw, spin_ns, index] {
        SetCurrentThreadName("kalam-http-" + std::to_string(index));
        for (;;) {
          try {
            RunLoop(*raw, spin_ns);
            return;
          } catch (const std::exception& e) {
            log::Error(std::string("http worker: unexpected exception: ") + e.what());
          }
        }
      });
    }
    return Status::OK();
  }

  // Runs the worker's io_context until it stops. After handling events it keeps polling for up
  // to `spin_ns` before blocking in epoll_wait: a request that arrives within that window is
  // picked up without the scheduler's wake-up latency (measured in docs/PERFORMANCE.md). While
  // every one of its connections has its answer held (Response::hold), it keeps polling too:
  // no client of its can send anything meanwhile, so the spin takes CPU from nobody, and the
  // release is served at once instead of after a wake-up (group commit on one connection:
  // p50 ~300 -> ~180 µs). Spinning while only some are held took the CPU their clients needed
  // (10 connections: 12-14.6k -> 5.3-7k durable INSERTs/s).
  // The longest a worker polls through a hold: about a slow fsync. Past it (a disk stalling for
  // milliseconds) it sleeps in epoll_wait like an idle worker; the release still wakes it.
  static constexpr int64_t kHeldSpinNs = 2'000'000;

  static void RunLoop(Worker& worker, int64_t spin_ns) {
    asio::io_context& ctx = worker.ctx;
    if (spin_ns <= 0) {
      ctx.run();
      return;
    }
    int64_t last_work = SteadyNowNs();
    for (;;) {
      if (ctx.poll() > 0) {
        last_work = SteadyNowNs();
        continue;
      }
      if (ctx.stopped()) return;
      const int64_t idle_ns = SteadyNowNs() - last_work;
      if (idle_ns < spin_ns || (worker.AllHeld() && idle_ns < kHeldSpinNs)) continue;
      if (ctx.run_one() == 0) return;
      last_work = SteadyNowNs();
    }
  }

  int port() const { return port_; }
  int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }

  void Stop(int grace_seconds) {
    if (stopping_.exchange(true)) return;
    // 1. Stop accepting.
    asio::post(workers_[0]->ctx, [this] {
      boost::system::error_code ignored;
      if (acceptor_) acceptor_->close(ignored);
    });
    // 2. Every worker: close idle connections; busy ones close after their response.
    for (auto& w : workers_) {
      Worker* raw = w.get();
      asio::post(raw->ctx, [raw] {
        raw->draining = true;
        for (Conn* c = raw->head; c != nullptr; c = c->next) {
          if (c->request_start_ns == 0 && c->write_start_ns == 0) {
            boost::system::error_code ignored;
            c->socket.cancel(ignored);
          }
        }
      });
    }
    // 3. Wait for in-flight requests, then stop the loops.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_seconds);
    while (open_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& w : workers_) {
      Worker* raw = w.get();
      asio::post(raw->ctx, [raw] {
        boost::system::error_code ignored;
        raw->stopped = true;
        if (raw->sweep_timer) raw->sweep_timer->cancel();
        for (Conn* c = raw->head; c != nullptr; c = c->next) c->socket.close(ignored);
        raw->guard.reset();
      });
    }
    Wait();
  }

  void Wait() {
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

 private:
  void ArmSweep(Worker& w) {
    w.sweep_timer->expires_after(std::chrono::milliseconds(500));
    w.sweep_timer->async_wait([this, &w](const boost::system::error_code& ec) {
      if (ec || w.stopped) return;
      Sweep(w);
      ArmSweep(w);
    });
  }

  // Closes connections that sat idle, took too long to send a request, or to take a response.
  void Sweep(Worker& w) {
    const int64_t now = SteadyNowNs();
    const int64_t busy = w.busy_ns.load(std::memory_order_relaxed);
    if (w.last_sweep_ns != 0 && now > w.last_sweep_ns) {
      w.load_permille.store(
          static_cast<int>((busy - w.last_busy_ns) * 1000 / (now - w.last_sweep_ns)),
          std::memory_order_relaxed);
    }
    w.last_sweep_ns = now;
    w.last_busy_ns = busy;
    const int64_t idle_ns = int64_t{options_.keepalive_timeout_seconds} * 1'000'000'000;
    const int64_t request_ns = int64_t{options_.request_timeout_seconds} * 1'000'000'000;
    for (Conn* c = w.head; c != nullptr; c = c->next) {
      boost::system::error_code ignored;
      if (c->write_start_ns != 0) {
        if (now - c->write_start_ns > request_ns) c->socket.close(ignored);
      } else if (c->request_start_ns != 0) {
        if (now - c->request_start_ns > request_ns && !c->timed_out) {
          c->timed_out = true;  // the session answers 408 and closes
          c->socket.cancel(ignored);
        }
      } else if (now - c->last_activity_ns > idle_ns) {
        c->socket.close(ignored);
      }
    }
  }

  // Where a new connection goes: the lowest-numbered worker that was less than half busy
  // over the last sweep interval, else the least busy one. Light load therefore stays on few
  // threads (a co-located client keeps a core to itself, and p99 latency stays low: measured
  // in docs/PERFORMANCE.md), while sustained load spreads new connections over every core.
  Worker& PickWorker() {
    Worker* least = workers_[0].get();
    for (auto& w : workers_) {
      int load = w->load_permille.load(std::memory_order_relaxed);
      if (load < 500) return *w;
      if (load < least->load_permille.load(std::memory_order_relaxed)) least = w.get();
    }
    return *least;
  }

  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      Worker& target = PickWorker();
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor_->async_accept(
          target.ctx, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
        // EMFILE and friends: back off instead of spinning.
        log::Warn("accept failed: " + ec.message());
        asio::steady_timer pause(workers_[0]->ctx, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (open_.load(std::memory_order_relaxed) >= options_.max_connections) {
        socket.close(ec);  // over the configured limit: refuse
        continue;
      }
      open_.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(target.ctx, Session(std::move(socket), &target), asio::detached);
    }
  }

  // Parses everything buffered in `c.in`, appending responses to `c.out`.
  // Returns false when the connection must close after `c.out` is written.
  bool ProcessBuffered(Conn& c, Request& request) {
    for (;;) {
      std::string_view data = c.in.View();
      if (c.in_chunked_body) {
        if (data.empty()) return true;
        size_t used = 0;
        ParseStatus st = c.chunked.Feed(data, &used, &c.chunked_body);
        c.in.Consume(used);
        if (st == ParseStatus::kNeedMore) return true;
        if (st != ParseStatus::kComplete) return Reject(c, st, options_.max_body_size + 1);
        c.in_chunked_body = false;
        // Re-read the saved head so its views point at the copy, then answer.
        size_t scan = 0;
        ParseRequestHead(c.chunked_head, c.chunked_head.size() + 1, options_.max_body_size, &scan,
                         &c.head);
        if (!Answer(c, request, c.chunked_body)) return false;
        if (c.hold) return true;  // answer held: the next request waits for its release
        continue;
      }
      if (c.scan_from == 0) {
        // Tolerate empty lines between requests (RFC 9112 2.2).
        while (data.size() >= 2 && data[0] == '\r' && data[1] == '\n') {
          c.in.Consume(2);
          data = c.in.View();
        }
      }
      if (data.empty()) {
        c.request_start_ns = 0;  // only empty lines: no request has started
        return true;
      }
      if (c.request_start_ns == 0) c.request_start_ns = SteadyNowNs();
      ParseStatus st = ParseRequestHead(data, options_.max_header_size, options_.max_body_size,
                                        &c.scan_from, &c.head);
      if (st == ParseStatus::kNeedMore) {
        c.split_request = true;
        return true;
      }
      if (st != ParseStatus::kComplete) return Reject(c, st, c.head.content_length);
      if (c.head.expect_continue && !c.continue_sent &&
          (c.head.chunked || data.size() < c.head.head_size + c.head.content_length)) {
        c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
        c.continue_sent = true;
      }
      if (c.head.chunked) {
        c.chunked_head.assign(data.substr(0, c.head.head_size));
        c.chunked_body.clear();
        c.chunked.Reset(options_.max_body_size);
        c.in_chunked_body = true;
        c.in.Consume(c.head.head_size);
        continue;
      }
      const uint64_t total = c.head.head_size + c.head.content_length;
      if (data.size() < total) {
        // The body is still arriving: next time, find the head's end at once.
        c.scan_from = c.head.head_size - 1;  // the search restarts 3 bytes back
        c.bytes_wanted = total;
        c.split_request = true;
        return true;
      }
      std::string_view body = data.substr(c.head.head_size, c.head.content_length);
      bool keep_open = Answer(c, request, body);
      c.in.Consume(total);
      if (!keep_open) return false;
      if (c.hold) return true;  // answer held: the next request waits for its release
    }
  }

  // Answers a malformed or oversized request and asks for the connection to close.
  bool Reject(Conn& c, ParseStatus status, uint64_t announced_size) {
    Response error;
    switch (status) {
      case ParseStatus::kBodyTooLarge:
        error.status = 413;
        error.body = options_.body_too_large(announced_size, options_.max_body_size);
        break;
      case ParseStatus::kHeadTooLarge:
        error.status = 431;
        error.body = SimpleJsonError("HEADER_TOO_LARGE", "Request header fields too large");
        break;
      default:
        error.status = 400;
        error.body = SimpleJsonError("BAD_REQUEST", "Malformed HTTP request");
        break;
    }
    AppendResponse(c.out, error, false, false);
    return false;
  }

  // Runs the handler for the request in c.head with `body`; resets the parse state.
  // Returns false when the connection must close after this response.
  bool Answer(Conn& c, Request& request, std::string_view body) {
    const RequestHead& head = c.head;
    request.method = ToMethod(head.method);
    request.target = head.target;
    std::string_view origin_form = head.target;
    if (origin_form.rfind("http://", 0) == 0 || origin_form.rfind("https://", 0) == 0) {
      // Absolute form (RFC 9112 3.2.2): route on the path after the authority.
      size_t slash = origin_form.find('/', origin_form.find("//") + 2);
      origin_form =
          slash == std::string_view::npos ? std::string_view("/") : origin_form.substr(slash);
    }
    size_t q = origin_form.find('?');
    request.path = origin_form.substr(0, q);
    request.query = q == std::string_view::npos ? std::string_view() : origin_form.substr(q + 1);
    request.body = body;
    request.headers = head.headers;
    request.start_ns = c.request_start_ns;
    request.complete_ns = c.split_request ? SteadyNowNs() : 0;
    c.split_request = false;
    Response response;
    try {
      handler_(request, response);
    } catch (const std::exception& e) {
      log::Error(std::string("http handler threw: ") + e.what());
      response = Response();
      response.status = 500;
      response.body = SimpleJsonError("INTERNAL_ERROR", "Internal server error");
    }
    bool close = response.close || !head.keep_alive || c.worker->draining;
    if (response.hold) {
      c.hold = std::move(response.hold);
      c.hold_offset = c.out.size();
    }
    AppendResponse(c.out, response, !close, request.method == Method::kHead);
    c.scan_from = 0;
    c.bytes_wanted = 0;
    c.continue_sent = false;
    c.request_start_ns = 0;
    return !close;
  }

  asio::awaitable<void> Session(tcp::socket socket, Worker* worker) {
    Conn c(std::move(socket), worker);
    worker->Link(&c);
    try {
      co_await Serve(c);
    } catch (const std::exception& e) {
      log::Warn(std::string("http connection: ") + e.what());
    }
    boost::system::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
    worker->Unlink(&c);
    open_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Waits, without blocking the worker, until the hold of c's last answer is released; returns
  // its verdict. The worker's loop is kept alive meanwhile, and the release may come from any
  // thread: it is posted to the worker.
  asio::awaitable<bool> Released(Conn& c) {
    auto hold = std::move(c.hold);
    c.hold = nullptr;
    auto executor = co_await asio::this_coro::executor;
    struct HeldCount {  // Worker::held, also when the wait ends by an exception
      Worker* w;
      explicit HeldCount(Worker* worker) : w(worker) { ++w->held; }
      ~HeldCount() { --w->held; }
      HeldCount(const HeldCount&) = delete;
      HeldCount& operator=(const HeldCount&) = delete;
    } counted(c.worker);
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
        [&hold, executor](auto handler) {
          auto state = std::make_shared<decltype(handler)>(std::move(handler));
          auto work = asio::make_work_guard(executor);
          hold([state, work](bool ok) {
            asio::post(work.get_executor(), [state, ok] { (*state)(ok); });
          });
        },
        asio::use_awaitable);
  }

  asio::awaitable<void> Serve(Conn& c) {
    boost::system::error_code ec;
    c.socket.set_option(tcp::no_delay(true), ec);
    auto remote = c.socket.remote_endpoint(ec);
    if (ec) co_return;
    auto addr = remote.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    c.peer_ip = addr.to_string();
    c.peer_is_loopback = addr.is_loopback();
    c.last_activity_ns = SteadyNowNs();

    Request request;
    request.peer_ip = c.peer_ip;
    request.peer_is_loopback = c.peer_is_loopback;
    request.headers.reserve(16);
    int64_t resumed_ns = c.last_activity_ns;  // when this connection's work last started

    for (;;) {
      bool keep_open = ProcessBuffered(c, request);
      const bool held = static_cast<bool>(c.hold);
      if (held) {  // the wait for the release is not work: keep it out of busy_ns
        c.worker->busy_ns.fetch_add(SteadyNowNs() - resumed_ns, std::memory_order_relaxed);
      }
      if (held && !co_await Released(c)) {
        c.out.resize(c.hold_offset);
        Response failed;
        failed.status = 500;
        failed.body = SimpleJsonError("INTERNAL_ERROR", "Internal server error");
        AppendResponse(c.out, failed, false, false);
        keep_open = false;
      }
      int64_t written_ns = 0;  // when the answer left, if one was written
      if (!c.out.empty()) {
        c.write_start_ns = SteadyNowNs();
        co_await asio::async_write(c.socket, asio::buffer(c.out),
                                   asio::redirect_error(asio::use_awaitable, ec));
        c.write_start_ns = 0;
        c.out.clear();
        if (c.out.capacity() > (1u << 20)) c.out.shrink_to_fit();
        if (ec) co_return;
        c.last_activity_ns = written_ns = SteadyNowNs();
      }
      if (held) resumed_ns = written_ns != 0 ? written_ns : SteadyNowNs();
      if (!keep_open) co_return;
      if (held) continue;  // requests buffered behind the held answer are parsed first
      const bool mid_request = c.request_start_ns != 0 || c.in_chunked_body;
      if (c.worker->draining && !mid_request) co_return;

      c.worker->busy_ns.fetch_add(SteadyNowNs() - resumed_ns, std::memory_order_relaxed);
      if (!mid_request) c.in.ShrinkIfEmpty(kKeepBufferBytes);
      // Room for a typical request; a body known to be larger gets all the room it needs.
      size_t want = kReadChunkBytes;
      if (c.bytes_wanted > c.in.size())
        want = std::max<uint64_t>(want, c.bytes_wanted - c.in.size());
      c.in.Reserve(want);
      size_t n = co_await c.socket.async_read_some(asio::buffer(c.in.WritePtr(), c.in.Free()),
                                                   asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (c.timed_out) {
          Response timeout;
          timeout.status = 408;
          timeout.body = SimpleJsonError("REQUEST_TIMEOUT", "Request not received in time");
          c.out.clear();
          AppendResponse(c.out, timeout, false, false);
          boost::system::error_code wec;
          co_await asio::async_write(c.socket, asio::buffer(c.out),
                                     asio::redirect_error(asio::use_awaitable, wec));
          co_return;
        }
        if (ec == asio::error::operation_aborted && c.worker->draining && mid_request) {
          continue;  // a request is mid-flight; keep reading it despite the drain
        }
        co_return;
      }
      c.in.Commit(n);
      c.last_activity_ns = resumed_ns = SteadyNowNs();
      if (c.request_start_ns == 0) c.request_start_ns = c.last_activity_ns;
    }
  }

  Options options_;
  Handler handler_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::optional<tcp::acceptor> acceptor_;
  std::atomic<int64_t> open_{0};
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

Server::Server(Options options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
Server::~Server() {
  if (impl_) impl_->Stop(0);
}
Status Server::Start() { return impl_->Start(); }
int Server::port() const { return impl_->port(); }
void Server::Stop(int grace_seconds) { impl_->Stop(grace_seconds); }
void Server::Wait() { impl_->Wait(); }
int64_t Server::open_connections() const { return impl_->open_connections(); }

}  // namespace kalamdb::http
