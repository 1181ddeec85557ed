// OTLP/gRPC transport. The only file that includes gRPC headers: the request is already
// protobuf-encoded, so a generic stub sends the raw bytes (no generated code, no libprotobuf).
#include <grpc/grpc.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/slice.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include "trace/otlp.h"

namespace kalamdb::trace::otlp_internal {
namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// The OTLP/gRPC retry rules (RESOURCE_EXHAUSTED would need RetryInfo, which a generic call
// does not decode: treated as fatal).
SendOutcome Classify(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return SendOutcome::kOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::DATA_LOSS:
      return SendOutcome::kRetryable;
    default:
      return SendOutcome::kFatal;
  }
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "status";
  }
}

class GrpcTransport final : public OtlpTransport {
 public:
  GrpcTransport(const Endpoint& endpoint, int timeout_ms)
      : target_(endpoint.HostPort()), timeout_ms_(timeout_ms) {
    grpc::ChannelArguments args;
    // Never route the collector through an http_proxy from the environment.
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    // Notice a collector that comes (back) up within seconds, not minutes. (The minimum
    // backoff is left alone: gRPC also uses it as the connect timeout.)
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
    channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  }

  SendResult Send(std::string_view body) override {
    std::lock_guard<std::mutex> lock(mu_);
    grpc::Slice slice(body.data(), body.size());
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms_));
    grpc::CompletionQueue cq;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> call =
        stub_->PrepareUnaryCall(&context, method_, request, &cq);
    if (call == nullptr) {
      return {SendOutcome::kRetryable, "grpc: cannot start a call to " + target_};
    }
    call->StartCall();
    int finish_tag = 0;
    call->Finish(&response, &status, &finish_tag);
    void* tag = nullptr;
    bool ok = false;
    // The deadline bounds the call, so this returns by then. Our only tag is finish_tag.
    while (cq.Next(&tag, &ok)) {
      if (tag == &finish_tag) break;
    }
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    SendOutcome outcome = Classify(status.error_code());
    if (outcome == SendOutcome::kOk) return {outcome, {}};
    std::string error = "grpc " + target_ + ": " + CodeName(status.error_code()) + " (" +
                        std::to_string(static_cast<int>(status.error_code())) + ")";
    if (!status.error_message().empty()) error.append(": ").append(status.error_message());
    return {outcome, std::move(error)};
  }

 private:
  std::mutex mu_;  // serialises Send
  // gRPC may keep a pointer to the method name for the call's lifetime: it lives here.
  const std::string method_ = kExportMethod;
  std::string target_;
  int timeout_ms_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

}  // namespace

std::unique_ptr<OtlpTransport> MakeGrpcTransport(const Endpoint& endpoint, int timeout_ms) {
  return std::make_unique<GrpcTransport>(endpoint, timeout_ms);
}

}  // namespace kalamdb::trace::otlp_internal
