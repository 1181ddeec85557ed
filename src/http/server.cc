// server.cc: the HTTP/1.1 server on Asio, with Beast's request parser.
//
// This is one of the two translation units that include Asio/Beast (the other is the
// future WebSocket upgrade). Each worker thread runs its own io_context; the acceptor lives on
// worker 0 and deals new sockets round-robin. A connection is one C++20 coroutine that loops:
// parse every complete request already buffered, answer each into one output buffer, write it,
// read more. A per-worker sweep timer enforces idle, request and write timeouts.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include "common/log.h"
#include "http/http.h"

namespace kalamdb::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    case bhttp::verb::patch:
      return Method::kPatch;
    default:
      return Method::kOther;
  }
}

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
    if (IEquals(key, name)) return value;
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

class Server::Impl {
 public:
  struct Worker;

  // One TCP connection. Owned by its session coroutine; linked into its worker's list so the
  // sweeper can find it. Touched only on its worker's thread.
  struct Conn {
    explicit Conn(tcp::socket s, Worker* w) : socket(std::move(s)), worker(w) {}
    tcp::socket socket;
    Worker* worker;
    beast::flat_buffer in;
    std::string out;
    std::string peer_ip;
    bool peer_is_loopback = false;
    // Steady-clock ns of the last completed read or write.
    int64_t last_activity_ns = 0;
    // Steady-clock ns when the current unfinished request started; 0 when none is pending.
    int64_t request_start_ns = 0;
    // Steady-clock ns when the current write started; 0 when not writing.
    int64_t write_start_ns = 0;
    bool timed_out = false;
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
    // Nanoseconds this worker spent serving (from a read's completion to the next read),
    // written by the worker only.
    std::atomic<int64_t> busy_ns{0};
    // Share of the last sweep interval spent serving, in permille; read by the acceptor.
    std::atomic<int> load_permille{0};
    int64_t last_sweep_ns = 0;
    int64_t last_busy_ns = 0;

    void Link(Conn* c) {
      c->next = head;
      if (head) head->prev = c;
      head = c;
    }
    void Unlink(Conn* c) {
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
    for (auto& w : workers_) {
      Worker* raw = w.get();
      w->thread = std::thread([raw] {
        for (;;) {
          try {
            raw->ctx.run();
            return;
          } catch (const std::exception& e) {
            log::Error(std::string("http worker: unexpected exception: ") + e.what());
          }
        }
      });
    }
    return Status::OK();
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
      if (ec) return;
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
  bool ProcessBuffered(Conn& c, std::optional<bhttp::request_parser<bhttp::string_body>>& parser,
                       bool& continue_sent, Request& request) {
    while (c.in.size() > 0) {
      if (!parser) {
        parser.emplace();
        parser->header_limit(options_.max_header_size);
        parser->body_limit(options_.max_body_size);
        parser->eager(true);
        continue_sent = false;
        if (c.request_start_ns == 0) c.request_start_ns = SteadyNowNs();
      }
      beast::error_code ec;
      size_t used = parser->put(c.in.data(), ec);
      c.in.consume(used);
      if (ec == bhttp::error::need_more) {
        if (parser->is_header_done() && !continue_sent) {
          auto expect = parser->get()[bhttp::field::expect];
          if (IEquals(expect, "100-continue")) {
            c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
            continue_sent = true;
          }
        }
        return true;
      }
      if (ec) {
        Response error;
        if (ec == bhttp::error::body_limit) {
          // content_length() asserts a finished header, which a body_limit error can precede;
          // the field itself is already parsed.
          uint64_t size = options_.max_body_size + 1;
          auto announced = parser->get()[bhttp::field::content_length];
          std::from_chars(announced.data(), announced.data() + announced.size(), size);
          error.status = 413;
          error.body = options_.body_too_large(size, options_.max_body_size);
        } else if (ec == bhttp::error::header_limit) {
          error.status = 431;
          error.body = SimpleJsonError("HEADER_TOO_LARGE", "Request header fields too large");
        } else {
          error.status = 400;
          error.body = SimpleJsonError("BAD_REQUEST", "Malformed HTTP request");
        }
        AppendResponse(c.out, error, false, false);
        return false;
      }
      if (!parser->is_done()) {
        if (used == 0) return true;  // defensive: no progress without an error
        continue;
      }
      auto& message = parser->get();
      if (message.find(bhttp::field::transfer_encoding) != message.end() && !parser->chunked()) {
        // A request body is framed by chunked or Content-Length only (RFC 9112 6.3): any other
        // Transfer-Encoding leaves its length unknown, and guessing invites request smuggling.
        Response error;
        error.status = 400;
        error.body = SimpleJsonError("BAD_REQUEST", "Unsupported Transfer-Encoding");
        AppendResponse(c.out, error, false, false);
        return false;
      }
      bool keep_alive = message.keep_alive();
      request.method = ToMethod(message.method());
      request.target = std::string_view(message.target().data(), message.target().size());
      std::string_view origin_form = request.target;
      if (origin_form.rfind("http://", 0) == 0 || origin_form.rfind("https://", 0) == 0) {
        // Absolute form (RFC 9112 3.2.2): route on the path after the authority.
        size_t slash = origin_form.find('/', origin_form.find("//") + 2);
        origin_form =
            slash == std::string_view::npos ? std::string_view("/") : origin_form.substr(slash);
      }
      size_t q = origin_form.find('?');
      request.path = origin_form.substr(0, q);
      request.query = q == std::string_view::npos ? std::string_view() : origin_form.substr(q + 1);
      request.body = message.body();
      request.headers.clear();
      for (const auto& field : message) {
        request.headers.emplace_back(
            std::string_view(field.name_string().data(), field.name_string().size()),
            std::string_view(field.value().data(), field.value().size()));
      }
      request.start_ns = c.request_start_ns;
      Response response;
      try {
        handler_(request, response);
      } catch (const std::exception& e) {
        log::Error(std::string("http handler threw: ") + e.what());
        response = Response();
        response.status = 500;
        response.body = SimpleJsonError("INTERNAL_ERROR", "Internal server error");
      }
      bool close = response.close || !keep_alive || c.worker->draining;
      AppendResponse(c.out, response, !close, request.method == Method::kHead);
      parser.reset();
      c.request_start_ns = 0;
      if (close) return false;
    }
    return true;
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

    std::optional<bhttp::request_parser<bhttp::string_body>> parser;
    bool continue_sent = false;
    Request request;
    request.peer_ip = c.peer_ip;
    request.peer_is_loopback = c.peer_is_loopback;
    request.headers.reserve(16);
    int64_t resumed_ns = c.last_activity_ns;  // when this connection's work last started

    for (;;) {
      bool keep_open = ProcessBuffered(c, parser, continue_sent, request);
      if (!c.out.empty()) {
        c.write_start_ns = SteadyNowNs();
        co_await asio::async_write(c.socket, asio::buffer(c.out),
                                   asio::redirect_error(asio::use_awaitable, ec));
        c.write_start_ns = 0;
        c.out.clear();
        if (c.out.capacity() > (1u << 20)) c.out.shrink_to_fit();
        if (ec) co_return;
        c.last_activity_ns = SteadyNowNs();
      }
      if (!keep_open) co_return;
      if (c.worker->draining && !parser && c.in.size() == 0) co_return;

      c.worker->busy_ns.fetch_add(SteadyNowNs() - resumed_ns, std::memory_order_relaxed);
      auto space = c.in.prepare(16384);
      size_t n =
          co_await c.socket.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
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
        if (ec == asio::error::operation_aborted && c.worker->draining && parser) {
          continue;  // a request is mid-flight; keep reading it despite the drain
        }
        co_return;
      }
      c.in.commit(n);
      c.last_activity_ns = resumed_ns = SteadyNowNs();
      if (!parser && c.request_start_ns == 0) c.request_start_ns = c.last_activity_ns;
      if (c.in.capacity() > (4u << 20) && c.in.size() < 4096) c.in.shrink_to_fit();
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
