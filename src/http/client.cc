#include "http/client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/strings.h"

namespace kalamdb::http {
namespace {

Status NetError(std::string what) { return Status(ErrorCode::kShuttingDown, std::move(what)); }

}  // namespace

std::string_view ClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

Client::Client(std::string host, int port, int timeout_ms)
    : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms) {}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

Status Client::Connect() {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(port_);
  if (int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot resolve '" + host_ + "': " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return NetError("cannot connect to " + host_ + ":" + port + ": " + last_error);
  return Status::OK();
}

Status Client::SendRaw(std::string_view bytes) {
  if (fd_ < 0) KALAMDB_RETURN_IF_ERROR(Connect());
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string err = std::strerror(errno);
      Close();
      return NetError("send failed: " + err);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status Client::Fill() {
  char tmp[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return Status::OK();
    }
    if (n == 0) return NetError("connection closed by server");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return NetError("timed out waiting for the server");
    return NetError(std::string("recv failed: ") + std::strerror(errno));
  }
}

Result<ClientResponse> Client::ReadResponse(bool head_request) {
  if (fd_ < 0) return NetError("not connected");
  for (;;) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      Status st = Fill();
      if (!st.ok()) {
        Close();
        return st;
      }
    }
    ClientResponse response;
    std::string_view head(buf_.data(), end);
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
      Close();
      return NetError("malformed status line");
    }
    std::from_chars(status_line.data() + 9, status_line.data() + 12, response.status);
    std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
    while (!rest.empty()) {
      size_t e = rest.find("\r\n");
      std::string_view line = rest.substr(0, e);
      rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    buf_.erase(0, end + 4);
    if (response.status == 100) continue;  // interim answer; the real one follows

    if (head_request || response.status == 204 || response.status == 304) return response;
    if (EqualsIgnoreCase(response.Header("Transfer-Encoding"), "chunked")) {
      for (;;) {
        size_t le;
        while ((le = buf_.find("\r\n")) == std::string::npos) {
          Status st = Fill();
          if (!st.ok()) return st;
        }
        size_t size = 0;
        std::from_chars(buf_.data(), buf_.data() + le, size, 16);
        buf_.erase(0, le + 2);
        while (buf_.size() < size + 2) {
          Status st = Fill();
          if (!st.ok()) return st;
        }
        response.body.append(buf_, 0, size);
        buf_.erase(0, size + 2);
        if (size == 0) break;
      }
      return response;
    }
    std::string_view cl = response.Header("Content-Length");
    if (!cl.empty()) {
      size_t length = 0;
      std::from_chars(cl.data(), cl.data() + cl.size(), length);
      while (buf_.size() < length) {
        Status st = Fill();
        if (!st.ok()) {
          Close();
          return st;
        }
      }
      response.body.assign(buf_, 0, length);
      buf_.erase(0, length);
    } else {
      // Body until close.
      while (Fill().ok()) {
      }
      response.body = std::move(buf_);
      Close();
    }
    if (EqualsIgnoreCase(response.Header("Connection"), "close")) Close();
    return response;
  }
}

Result<ClientResponse> Client::Send(
    std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  req.append(host_).append(":").append(std::to_string(port_)).append("\r\n");
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
    req.append(name).append(": ").append(value).append("\r\n");
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!has_content_type) req.append("Content-Type: application/json\r\n");
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);

  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = fd_ >= 0;
    Status st = SendRaw(req);
    if (st.ok()) {
      auto response = ReadResponse(method == "HEAD");
      if (response.ok() || !reused) return response;
    } else if (!reused) {
      return st;
    }
    Close();  // a stale keep-alive connection: reconnect once
  }
  return NetError("request failed after reconnect");
}

}  // namespace kalamdb::http
