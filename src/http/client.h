// client.h: a small blocking HTTP/1.1 client (keep-alive, Content-Length and chunked bodies).
//
// Used by the kalam CLI and by tests; not by the server. One Client is one connection and is
// not thread-safe: give each thread its own.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalamdb::http {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // First header named `name` (case-insensitive), or empty.
  std::string_view Header(std::string_view name) const;
};

class Client {
 public:
  // `host` is a name or address; nothing is connected until the first request.
  Client(std::string host, int port, int timeout_ms = 10000);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and reads the whole response. Reconnects once if a kept-alive
  // connection turns out to be closed. `headers` are extra fields ("Authorization" ...).
  // Errors: kStorageIo-free; kInternal-free; kUnauthenticated-free: only network errors,
  // reported as kInvalidArgument (bad host) or kShuttingDown (connection failed or closed).
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              std::string_view body = {},
                              const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Writes raw bytes on the connection (tests of malformed input). Connects if needed.
  Status SendRaw(std::string_view bytes);
  // Reads one response from the connection (after SendRaw).
  Result<ClientResponse> ReadResponse(bool head_request = false);
  void Close();
  bool connected() const { return fd_ >= 0; }

 private:
  Status Connect();
  Status Fill();  // reads more bytes into buf_
  std::string host_;
  int port_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buf_;  // received, not yet consumed
};

}  // namespace kalamdb::http
