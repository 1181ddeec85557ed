// OTLP/HTTP transport (binary protobuf bodies) over the blocking kalamdb::http::Client.
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "http/client.h"
#include "trace/otlp.h"

namespace kalamdb::trace::otlp_internal {
namespace {

class HttpTransport final : public OtlpTransport {
 public:
  HttpTransport(const Endpoint& endpoint, int timeout_ms)
      : where_("http://" + endpoint.HostPort()),
        path_(endpoint.path.empty() || endpoint.path == "/" ? std::string("/v1/traces")
                                                            : endpoint.path),
        client_(endpoint.host, endpoint.port, timeout_ms),
        headers_{{"Content-Type", "application/x-protobuf"}} {
    where_.append(path_);
  }

  SendResult Send(std::string_view body) override {
    std::lock_guard<std::mutex> lock(mu_);
    Result<http::ClientResponse> r = client_.Send("POST", path_, body, headers_);
    if (!r.ok()) {
      client_.Close();  // the connection state is unknown after a failure
      return {SendOutcome::kRetryable, "http " + where_ + ": " + r.status().ToString()};
    }
    const int status = r->status;
    if (status >= 200 && status < 300) return {SendOutcome::kOk, {}};
    const bool retryable = status == 429 || status == 502 || status == 503 || status == 504;
    return {retryable ? SendOutcome::kRetryable : SendOutcome::kFatal,
            "http " + where_ + ": status " + std::to_string(status)};
  }

 private:
  std::mutex mu_;  // serialises Send (the client is one connection)
  std::string where_;
  std::string path_;
  http::Client client_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace

std::unique_ptr<OtlpTransport> MakeHttpTransport(const Endpoint& endpoint, int timeout_ms) {
  return std::make_unique<HttpTransport>(endpoint, timeout_ms);
}

}  // namespace kalamdb::trace::otlp_internal
