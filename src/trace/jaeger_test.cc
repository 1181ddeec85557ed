#include "trace/jaeger.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <string>

namespace kalamdb::trace {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Compares two JSON values recursively; object members and array elements in order.
void ExpectSameJson(element want, element got, const std::string& path) {
  ASSERT_EQ(want.type(), got.type()) << path;
  switch (want.type()) {
    case element_type::OBJECT: {
      object w = want.get_object().value();
      object g = got.get_object().value();
      ASSERT_EQ(w.size(), g.size()) << path;
      auto wi = w.begin();
      auto gi = g.begin();
      for (; wi != w.end(); ++wi, ++gi) {
        ASSERT_EQ(wi.key(), gi.key()) << path;
        ExpectSameJson(wi.value(), gi.value(), path + "." + std::string(wi.key()));
      }
      break;
    }
    case element_type::ARRAY: {
      array w = want.get_array().value();
      array g = got.get_array().value();
      ASSERT_EQ(w.size(), g.size()) << path;
      size_t i = 0;
      auto gi = g.begin();
      for (element e : w) {
        ExpectSameJson(e, *gi, path + "[" + std::to_string(i++) + "]");
        ++gi;
      }
      break;
    }
    case element_type::STRING:
      EXPECT_EQ(want.get_string().value(), got.get_string().value()) << path;
      break;
    case element_type::INT64:
      EXPECT_EQ(want.get_int64().value(), got.get_int64().value()) << path;
      break;
    case element_type::UINT64:
      EXPECT_EQ(want.get_uint64().value(), got.get_uint64().value()) << path;
      break;
    case element_type::DOUBLE:
      EXPECT_DOUBLE_EQ(want.get_double().value(), got.get_double().value()) << path;
      break;
    case element_type::BOOL:
      EXPECT_EQ(want.get_bool().value(), got.get_bool().value()) << path;
      break;
    case element_type::NULL_VALUE:
      break;
  }
}

TEST(JaegerTest, MatchesRealJaegerOutputForFixture) {
  const std::string path =
      std::string(KALAMDB_SHARED_DIR) + "/fixtures/jaeger/otlp2jaeger-out.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found: " << path;

  // The fixture's input (otlp2jaeger-in.json): two identical server spans with a remote parent.
  Trace t;
  t.Begin(*TraceId::FromHex("83a9efd15c1c98a977e0711cc93ee28b"),
          *SpanId::FromHex("909541b92cf05311"), true);
  for (int i = 0; i < 2; ++i) {
    int32_t s = t.AddSpan("okey-dokey-0", SpanKind::kServer, kNoSpan, 1706678909209712000,
                          *SpanId::FromHex("e127af99e3b3e074"));
    t.SetAttribute(s, "net.peer.ip", "1.2.3.4");
    t.SetAttribute(s, "peer.service", "telemetrygen-client");
    t.EndSpan(s, 1706678909209835000);
  }
  JaegerOptions options;
  options.service_name = "telemetrygen";
  options.scope_name = "telemetrygen";
  std::string got = ToJaegerJson(*t.Snapshot(), options);

  simdjson::dom::parser want_parser, got_parser;
  element want;
  ASSERT_EQ(want_parser.load(path).get(want), simdjson::SUCCESS);
  element got_doc;
  ASSERT_EQ(got_parser.parse(got).get(got_doc), simdjson::SUCCESS) << got;
  ExpectSameJson(want, got_doc, "$");
}

TEST(JaegerTest, ErrorsEventsTypesAndChildReferences) {
  Trace t;
  t.Begin(TraceId{1, 2}, SpanId{}, true);
  int32_t root = t.AddSpan("POST /v1/api/sql", SpanKind::kServer, kNoSpan, 1'000'999, SpanId{0xa});
  int32_t child = t.AddSpan("sql.execute", SpanKind::kInternal, root, 1'001'500, SpanId{0xb});
  t.SetAttribute(child, "rows", 3);
  t.SetAttribute(child, "ratio", 0.25);
  t.SetAttribute(child, "cache.hit", false);
  t.AddEvent(child, "sql.dml_plan", 1'002'000, {{"plan_ms", 1}});
  t.SetError(child, ErrorCode::kInvalidSql, "bad");
  t.EndSpan(child, 1'002'499);
  t.SetStatus(root, SpanStatus::kOk);
  t.EndSpan(root, 1'003'000);
  JaegerOptions options;
  options.process_tags = {{"host.name", "h1"}};
  std::string got = ToJaegerJson(*t.Snapshot(), options);

  const char* want =
      R"({"data":[{"traceID":"00000000000000010000000000000002","spans":[)"
      R"({"traceID":"00000000000000010000000000000002","spanID":"000000000000000a",)"
      R"("operationName":"POST /v1/api/sql","references":[],"startTime":1000,"duration":2,)"
      R"("tags":[{"key":"otel.scope.name","type":"string","value":"kalamdb-server"},)"
      R"({"key":"span.kind","type":"string","value":"server"},)"
      R"({"key":"otel.status_code","type":"string","value":"OK"}],"logs":[],"processID":"p1",)"
      R"("warnings":null},)"
      R"({"traceID":"00000000000000010000000000000002","spanID":"000000000000000b",)"
      R"("operationName":"sql.execute","references":[{"refType":"CHILD_OF",)"
      R"("traceID":"00000000000000010000000000000002","spanID":"000000000000000a"}],)"
      R"("startTime":1001,"duration":0,)"
      R"("tags":[{"key":"otel.scope.name","type":"string","value":"kalamdb-server"},)"
      R"({"key":"rows","type":"int64","value":3},{"key":"ratio","type":"float64","value":0.25},)"
      R"({"key":"cache.hit","type":"bool","value":false},)"
      R"({"key":"error.code","type":"string","value":"invalid_sql"},)"
      R"({"key":"error.message","type":"string","value":"bad"},)"
      R"({"key":"span.kind","type":"string","value":"internal"},)"
      R"({"key":"otel.status_code","type":"string","value":"ERROR"},)"
      R"({"key":"error","type":"bool","value":true},)"
      R"({"key":"otel.status_description","type":"string","value":"bad"}],)"
      R"("logs":[{"timestamp":1002,"fields":[{"key":"event","type":"string","value":"sql.dml_plan"},)"
      R"({"key":"plan_ms","type":"int64","value":1}]}],"processID":"p1","warnings":null}],)"
      R"("processes":{"p1":{"serviceName":"kalamdb-server","tags":[{"key":"host.name",)"
      R"("type":"string","value":"h1"}]}},"warnings":null}],"total":0,"limit":0,"offset":0,)"
      R"("errors":null})";
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace kalamdb::trace
