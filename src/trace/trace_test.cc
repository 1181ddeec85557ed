#include "trace/trace.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace kalamdb::trace {
namespace {

TEST(IdsTest, RandomIdsAreNonZeroAndDistinctAndRoundTripHex) {
  TraceId a = TraceId::Random();
  TraceId b = TraceId::Random();
  EXPECT_TRUE(a.valid());
  EXPECT_FALSE(a == b);
  EXPECT_EQ(a.ToHex().size(), 32u);
  EXPECT_EQ(TraceId::FromHex(a.ToHex()), a);
  SpanId s = SpanId::Random();
  EXPECT_TRUE(s.valid());
  EXPECT_EQ(SpanId::FromHex(s.ToHex()), s);
  EXPECT_EQ(SpanId{0x1a}.ToHex(), "000000000000001a");
  EXPECT_FALSE(SpanId::FromHex("0000000000000000"));
  EXPECT_FALSE(SpanId::FromHex("000000000000001A"));
  EXPECT_FALSE(TraceId::FromHex("abc"));
}

TEST(TraceparentTest, ParsesValidHeader) {
  auto tp = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp->parent_span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(tp->sampled);
  auto unsampled = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled);
  char buffer[55];
  FormatTraceparentTo(buffer, tp->trace_id, tp->parent_span_id, false);
  EXPECT_EQ(std::string_view(buffer, 55),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  EXPECT_EQ(FormatTraceparent(tp->trace_id, tp->parent_span_id, true),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(TraceparentTest, RejectsInvalidHeaders) {
  const char* bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",  // too long
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
      "00-4bf92f3577b34da6a3ce929d0e0e473-x00f067aa0ba902b7-01",   // misplaced dash
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",   // bad flags
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // separator
  };
  for (const char* h : bad) EXPECT_FALSE(ParseTraceparent(h)) << h;
}

TEST(SamplerTest, DeterministicOnTraceIdAndRatioWithinTolerance) {
  Sampler half(0.25);
  int kept = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    TraceId id = TraceId::Random();
    bool d = half.ShouldSample(id);
    EXPECT_EQ(d, half.ShouldSample(id));
    EXPECT_EQ(d, Sampler(0.25).ShouldSample(id));
    kept += d ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(kept) / kN, 0.25, 0.01);
  EXPECT_TRUE(Sampler(1.0).ShouldSample(TraceId{~0ull, ~0ull}));
  EXPECT_FALSE(Sampler(0.0).ShouldSample(TraceId{0, 1}));
}

TEST(SamplerTest, SampledTraceparentIsAlwaysKept) {
  Sampler none(0.0);
  Trace t;
  EXPECT_TRUE(t.Begin("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &none));
  EXPECT_EQ(t.trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t.remote_parent().ToHex(), "00f067aa0ba902b7");
  EXPECT_FALSE(t.Begin("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &none));
  EXPECT_EQ(t.trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(t.Begin("", &none));
  EXPECT_TRUE(t.Begin(""));
  EXPECT_TRUE(t.trace_id().valid());
  EXPECT_FALSE(t.remote_parent().valid());
}

TEST(SpanTest, NestingRecordsParentLinksAndRestoresCurrent) {
  Trace t;
  t.Begin();
  {
    ScopedTrace scope(t);
    Span root("POST /v1/api/sql", SpanKind::kServer);
    {
      Span exec("sql.execute");
      { Span parse("sql.parse"); }
      EXPECT_EQ(t.current(), 1);
      Span write("store.write");
      EXPECT_EQ(t.current(), 3);
    }
    EXPECT_EQ(t.current(), 0);
    Span resp("http.write_response");
  }
  EXPECT_EQ(t.current(), kNoSpan);
  const auto& s = t.spans();
  ASSERT_EQ(s.size(), 5u);
  EXPECT_STREQ(s[0].name, "POST /v1/api/sql");
  EXPECT_EQ(s[0].kind, SpanKind::kServer);
  EXPECT_EQ(s[0].parent, kNoSpan);
  EXPECT_EQ(s[1].parent, 0);
  EXPECT_EQ(s[2].parent, 1);
  EXPECT_EQ(s[3].parent, 1);
  EXPECT_EQ(s[4].parent, 0);
  for (const SpanRecord& r : s) {
    EXPECT_FALSE(r.id.valid());  // drawn when asked for, or by the snapshot
    EXPECT_GT(r.start_ns, 1'600'000'000'000'000'000);
    EXPECT_GE(r.end_ns, r.start_ns);
  }
  EXPECT_LE(s[0].start_ns, s[1].start_ns);
  EXPECT_GE(s[0].end_ns, s[4].end_ns);
  EXPECT_EQ(CurrentTrace(), nullptr);
  const SpanId asked = t.SpanIdOf(2);
  EXPECT_TRUE(asked.valid());
  EXPECT_EQ(t.SpanIdOf(2), asked);  // drawn once
  const auto snap = t.Snapshot();
  EXPECT_EQ(snap->spans()[2].id, asked);
  for (const SpanRecord& r : snap->spans()) EXPECT_TRUE(r.id.valid());
}

// Span::Next walks sequential phases edge to edge: each sibling starts exactly where the
// previous one ended, children nest under the phase that is current, setters reach the current
// phase, and after End (or destruction) the parent is current again. Setters after End still
// record into the ended span.
TEST(SpanTest, NextOpensSiblingsEdgeToEdge) {
  Trace t;
  t.Begin();
  {
    ScopedTrace scope(t);
    Span statement("sql.statement");
    {
      Span phase("sql.plan");
      phase.SetAttribute("a", 1);
      phase.Next("coerce_rows");
      phase.SetAttribute("rows", 2);
      phase.Next("store.write");
      { Span batch("rocksdb.batch"); }
      EXPECT_EQ(t.current(), 3);
      phase.End();
      EXPECT_EQ(t.current(), 0);
      phase.SetAttribute("rows", 3);  // after End: still the store.write span's
    }
    EXPECT_EQ(t.current(), 0);
  }
  const auto& s = t.spans();
  ASSERT_EQ(s.size(), 5u);
  EXPECT_STREQ(s[1].name, "sql.plan");
  EXPECT_STREQ(s[2].name, "coerce_rows");
  EXPECT_STREQ(s[3].name, "store.write");
  EXPECT_STREQ(s[4].name, "rocksdb.batch");
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(s[i].parent, 0);
  EXPECT_EQ(s[4].parent, 3);
  EXPECT_EQ(s[2].start_ns, s[1].end_ns);
  EXPECT_EQ(s[3].start_ns, s[2].end_ns);
  EXPECT_GE(s[3].end_ns, s[4].end_ns);
  const auto snap = t.Snapshot();
  const auto& ss = snap->spans();
  EXPECT_EQ(ss[1].attr_count, 1);
  EXPECT_EQ(ss[2].attr_count, 1);
  ASSERT_EQ(snap->AttributesOf(ss[3]).size(), 1u);
  EXPECT_EQ(snap->AttributesOf(ss[3])[0].int_value, 3);
  EXPECT_NE(ss[1].id, ss[2].id);
}

TEST(SpanTest, SharedBoundariesStartWithTheParentAndEndWithTheLastChild) {
  EXPECT_EQ(CurrentSpanStart(), 0);  // no trace installed: "now" to a Span
  Trace t;
  t.Begin();
  {
    ScopedTrace scope(t);
    EXPECT_EQ(CurrentSpanStart(), 0);  // no span open
    Span check("auth.check");
    {
      Span method("auth.basic", SpanKind::kInternal, CurrentSpanStart());
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // not counted
    check.EndWithLastChild();
    check.SetAttribute("user_id", "root");  // after its end, as the server does

    Span alone("pk_check");  // no child: ends now
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    alone.EndWithLastChild();

    Span parent("store.write");
    {
      Span batch("rocksdb.batch");
      Span inner("inner");  // the latest span: a grandchild, not parent's child
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    parent.EndWithLastChild();
  }
  const auto& s = t.spans();
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[1].start_ns, s[0].start_ns);
  EXPECT_EQ(s[0].end_ns, s[1].end_ns);
  EXPECT_GE(s[1].end_ns - s[1].start_ns, 200'000);
  EXPECT_GE(s[2].end_ns - s[2].start_ns, 200'000);
  EXPECT_EQ(s[5].parent, 4);
  EXPECT_GE(s[3].end_ns - s[4].end_ns, 200'000);
}

TEST(TraceTest, SteadyClockTimesMapOntoTheTracesClock) {
  Trace t;
  t.Begin();
  const int64_t steady = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  const int64_t now = t.Now();
  // The same instant on both clocks, within what a few clock reads and the rate's error allow.
  EXPECT_NEAR(static_cast<double>(t.FromSteadyNs(steady)), static_cast<double>(now), 1e6);
  EXPECT_EQ(t.FromSteadyNs(steady + 5000) - t.FromSteadyNs(steady), 5000);
  EXPECT_EQ(t.ToSteadyNs(t.FromSteadyNs(steady)), steady);
}

TEST(SpanTest, ASiblingStartsWhereThePreviousChildEnded) {
  EXPECT_EQ(PreviousSiblingEnd(), 0);  // no trace installed
  Trace t;
  t.Begin();
  {
    ScopedTrace scope(t);
    Span statement("sql.statement");
    EXPECT_EQ(PreviousSiblingEnd(), 0);  // no child has ended
    { Span parse("sql.parse"); }
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // counted in the next span
    {
      Span plan("sql.plan", SpanKind::kInternal, PreviousSiblingEnd());
      Span open("coerce_rows");
      EXPECT_EQ(PreviousSiblingEnd(), 0);  // the last to end (parse) is not coerce_rows' sibling
    }
    Span write("store.write");
    { Span batch("rocksdb.batch"); }
    write.End();
    // The span that ended last is now write, a child of the current span (statement); the
    // grandchild batch that ended before it does not count.
    EXPECT_EQ(PreviousSiblingEnd(), t.spans()[4].end_ns);
  }
  const auto& s = t.spans();
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[2].start_ns, s[1].end_ns);
  EXPECT_GE(s[2].end_ns - s[2].start_ns, 200'000);
}

TEST(SpanTest, AttributesEventsAndErrors) {
  Trace t;
  t.Begin();
  ScopedTrace scope(t);
  {
    Span s("sql.statement");
    std::string table = "default.users";
    s.SetAttribute("table", table);
    table = "overwritten";  // the value was copied
    s.SetAttribute("rows", 3);
    s.SetAttribute("ratio", 0.5);
    s.SetAttribute("cache.hit", true);
    s.SetAttribute("rows", int64_t{7});  // replaces
    s.AddEvent("sql.dml_plan", {{"plan_ms", 2.5}, {"kind", "insert"}});
    s.SetError(ErrorCode::kInvalidSql, "syntax error at 3");
    for (int i = 0; i < 10; ++i) s.SetAttribute(i % 2 ? "x1" : "x2", i);
    s.SetAttribute("a5", 1);
    s.SetAttribute("a6", 1);
    s.SetAttribute("a7", 1);  // 9th distinct key: dropped
    s.SetAttribute("a8", 1);  // 10th: dropped
  }
  // While recording, attributes are kept as they were set; the snapshot sorts them out.
  EXPECT_EQ(t.attributes().size(), 19u);
  EXPECT_TRUE(t.AttributesOf(t.spans()[0]).empty());
  const auto snap = t.Snapshot();
  EXPECT_TRUE(snap->is_snapshot());
  const SpanRecord& r = snap->spans()[0];
  EXPECT_TRUE(r.id.valid());
  const auto attrs = snap->AttributesOf(r);
  ASSERT_EQ(attrs.size(), static_cast<size_t>(kMaxAttributes));
  EXPECT_EQ(r.dropped_attrs, 2);
  EXPECT_STREQ(attrs[0].key, "table");
  EXPECT_EQ(snap->StringOf(attrs[0]), "default.users");
  EXPECT_EQ(attrs[1].type, ValueType::kInt);
  EXPECT_EQ(attrs[1].int_value, 7);  // the last value, in the key's first place
  EXPECT_EQ(attrs[2].type, ValueType::kDouble);
  EXPECT_EQ(attrs[2].double_value, 0.5);
  EXPECT_EQ(attrs[3].type, ValueType::kBool);
  EXPECT_EQ(attrs[3].int_value, 1);
  EXPECT_STREQ(attrs[4].key, "x2");
  EXPECT_EQ(attrs[4].int_value, 8);
  EXPECT_STREQ(attrs[5].key, "x1");
  EXPECT_EQ(attrs[5].int_value, 9);
  EXPECT_STREQ(attrs[7].key, "a6");
  EXPECT_EQ(r.status, SpanStatus::kError);
  EXPECT_EQ(r.error_code, ErrorCode::kInvalidSql);
  EXPECT_EQ(t.ErrorMessageOf(r), "syntax error at 3");
  ASSERT_EQ(t.events().size(), 1u);
  const EventRecord& e = t.events()[0];
  EXPECT_STREQ(e.name, "sql.dml_plan");
  EXPECT_EQ(e.span, 0);
  ASSERT_EQ(e.field_count, 2u);
  EXPECT_EQ(t.fields()[e.first_field].double_value, 2.5);
  EXPECT_EQ(t.StringOf(t.fields()[e.first_field + 1]), "insert");
  EXPECT_GE(e.time_ns, r.start_ns);
}

TEST(TraceTest, PackAndUnpackGiveBackTheSameTrace) {
  Trace t;
  t.Begin(TraceId{7, 8}, SpanId{9}, true);
  {
    ScopedTrace scope(t);
    Span root("root", SpanKind::kServer);
    root.SetAttribute("table", "app.t");  // an arena string
    root.SetAttribute("rows", 2);
    Span child("child");
    child.AddEvent("retry", {{"attempt", 1}, {"why", "busy"}});
    child.SetError(ErrorCode::kAlreadyExists, "seven bytes");
  }
  t.SpanIdOf(1);  // one span id drawn, the other still missing
  std::vector<std::byte> block(t.PackedSize() + 8);
  ASSERT_EQ(t.PackedSize() % 8, 0u);
  block.back() = std::byte{0x5a};  // past the end: must stay untouched
  t.PackTo(block.data());
  EXPECT_EQ(block.back(), std::byte{0x5a});

  PackedTrace packed(block.data());
  EXPECT_EQ(packed.trace_id(), t.trace_id());
  ASSERT_EQ(packed.spans().size(), 2u);
  EXPECT_STREQ(packed.spans()[1].name, "child");
  EXPECT_FALSE(packed.spans()[0].id.valid());
  EXPECT_EQ(packed.spans()[1].id, t.spans()[1].id);
  packed.AssignSpanIds();  // in place: every later unpacking shows these
  EXPECT_TRUE(packed.spans()[0].id.valid());

  Trace u;
  u.Begin();
  u.AddSpan("leftover", SpanKind::kInternal, kNoSpan, 1);  // replaced entirely
  u.UnpackFrom(block.data());
  EXPECT_EQ(u.trace_id(), t.trace_id());
  EXPECT_EQ(u.remote_parent(), t.remote_parent());
  EXPECT_TRUE(u.sampled());
  EXPECT_EQ(u.begin_ns(), t.begin_ns());
  ASSERT_EQ(u.spans().size(), 2u);
  EXPECT_EQ(u.spans()[0].id, packed.spans()[0].id);
  EXPECT_EQ(u.spans()[1].parent, 0);
  EXPECT_EQ(u.spans()[1].end_ns, t.spans()[1].end_ns);
  EXPECT_EQ(u.ErrorMessageOf(u.spans()[1]), "seven bytes");
  ASSERT_EQ(u.attributes().size(), 2u);
  EXPECT_EQ(u.StringOf(u.attributes()[0]), "app.t");
  ASSERT_EQ(u.events().size(), 1u);
  EXPECT_STREQ(u.events()[0].name, "retry");
  ASSERT_EQ(u.fields().size(), 2u);
  EXPECT_EQ(u.StringOf(u.fields()[1]), "busy");
  // The unpacked trace reads as the original does.
  const auto a = t.Snapshot();
  const auto b = u.Snapshot();
  ASSERT_EQ(b->attributes().size(), a->attributes().size());
  EXPECT_EQ(b->AttributesOf(b->spans()[0]).size(), 2u);
  EXPECT_EQ(b->spans()[1].error_code, ErrorCode::kAlreadyExists);
}

TEST(AttributeLayoutTest, ARecordingReadsAsItsSnapshotDoes) {
  // Attributes of three spans set interleaved, with a repeated key and one span over the cap:
  // the layout of the recording lists what the snapshot holds, in the same order.
  Trace t;
  t.Begin();
  const int32_t a = t.AddSpan("a", SpanKind::kServer, kNoSpan, 1);
  const int32_t b = t.AddSpan("b", SpanKind::kInternal, a, 2);
  const int32_t c = t.AddSpan("c", SpanKind::kInternal, a, 3);  // no attributes
  const int32_t d = t.AddSpan("d", SpanKind::kInternal, a, 4);
  t.SetAttribute(b, "rows", 1);
  t.SetAttribute(a, "http.method", "POST");
  t.SetAttribute(b, "table", "app.t");
  t.SetAttribute(a, "http.route", "/v1/api/sql");
  t.SetAttribute(b, "rows", 2);  // replaces, in the first place
  const char* keys[] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"};
  for (const char* key : keys) t.SetAttribute(d, key, 5);  // 10 keys: 2 dropped
  t.SetAttribute(a, "http.status_code", 200);
  t.AssignSpanIds();

  AttributeLayout layout;
  layout.Build(t);
  const auto snap = t.Snapshot();
  AttributeLayout of_snapshot;
  of_snapshot.Build(*snap);
  for (int32_t span : {a, b, c, d}) {
    std::vector<const AttrRecord*> from_recording;
    layout.ForEach(t, span, [&](const AttrRecord& r) { from_recording.push_back(&r); });
    std::vector<const AttrRecord*> from_snapshot;
    of_snapshot.ForEach(*snap, span, [&](const AttrRecord& r) { from_snapshot.push_back(&r); });
    const auto expected = snap->AttributesOf(snap->spans()[span]);
    ASSERT_EQ(from_recording.size(), expected.size()) << "span " << span;
    ASSERT_EQ(from_snapshot.size(), expected.size()) << "span " << span;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_STREQ(from_recording[i]->key, expected[i].key);
      EXPECT_EQ(from_recording[i]->type, expected[i].type);
      EXPECT_EQ(from_snapshot[i], &expected[i]);
      if (expected[i].type == ValueType::kInt) {
        EXPECT_EQ(from_recording[i]->int_value, expected[i].int_value);
      } else {
        EXPECT_EQ(t.StringOf(*from_recording[i]), snap->StringOf(expected[i]));
      }
    }
    EXPECT_EQ(layout.dropped(t, span), snap->spans()[span].dropped_attrs);
    EXPECT_EQ(of_snapshot.dropped(*snap, span), snap->spans()[span].dropped_attrs);
  }
  // The snapshot's own figures (made through the same layout), against fixed expectations.
  const auto a_attrs = snap->AttributesOf(snap->spans()[a]);
  ASSERT_EQ(a_attrs.size(), 3u);
  EXPECT_STREQ(a_attrs[0].key, "http.method");
  EXPECT_STREQ(a_attrs[1].key, "http.route");
  EXPECT_STREQ(a_attrs[2].key, "http.status_code");
  const auto d_attrs = snap->AttributesOf(snap->spans()[d]);
  for (size_t i = 0; i < d_attrs.size(); ++i) EXPECT_STREQ(d_attrs[i].key, keys[i]);  // k0..k7
  ASSERT_EQ(snap->AttributesOf(snap->spans()[b]).size(), 2u);
  EXPECT_EQ(snap->AttributesOf(snap->spans()[b])[0].int_value, 2);
  EXPECT_TRUE(snap->AttributesOf(snap->spans()[c]).empty());
  EXPECT_EQ(snap->AttributesOf(snap->spans()[d]).size(), static_cast<size_t>(kMaxAttributes));
  EXPECT_EQ(snap->spans()[d].dropped_attrs, 2);

  // Reused for another trace, the layout forgets the first.
  Trace other;
  other.Begin();
  const int32_t only = other.AddSpan("only", SpanKind::kServer, kNoSpan, 1);
  other.SetAttribute(only, "x", 1);
  layout.Build(other);
  int seen = 0;
  layout.ForEach(other, only, [&](const AttrRecord& r) {
    EXPECT_STREQ(r.key, "x");
    ++seen;
  });
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(layout.dropped(other, only), 0);
}

TEST(SpanTest, SetStatusRecordsOnlyErrors) {
  Trace t;
  t.Begin();
  ScopedTrace scope(t);
  {
    Span a("a");
    a.SetStatus(Status::OK());
    Span b("b");
    b.SetStatus(Status(ErrorCode::kNotFound, "no table"));
  }
  EXPECT_EQ(t.spans()[0].status, SpanStatus::kUnset);
  EXPECT_EQ(t.spans()[1].status, SpanStatus::kError);
  EXPECT_EQ(t.spans()[1].error_code, ErrorCode::kNotFound);
}

TEST(SpanTest, DisabledOrUnsampledRecordsNothing) {
  {
    Span s("sql.parse");
    EXPECT_FALSE(s.recording());
    s.SetAttribute("rows", 1);
    s.AddEvent("e", {{"k", 1}});
    s.SetError(ErrorCode::kInternal, "x");
  }
  Sampler never(0.0);
  Trace t;
  EXPECT_FALSE(t.Begin("", &never));
  {
    ScopedTrace scope(t);
    EXPECT_EQ(CurrentTrace(), nullptr);
    Span s("sql.parse");
    EXPECT_FALSE(s.recording());
    s.SetAttribute("rows", 1);
  }
  EXPECT_TRUE(t.spans().empty());
  EXPECT_TRUE(t.events().empty());
}

TEST(SpanTest, EndIsIdempotentAndMaxSpansCountsDrops) {
  Trace::Options o;
  o.max_spans = 2;
  Trace t(o);
  t.Begin();
  ScopedTrace scope(t);
  Span a("a");
  Span b("b");
  Span c("c");  // over the cap
  EXPECT_FALSE(c.recording());
  EXPECT_EQ(t.current(), 1);
  b.End();
  b.End();
  EXPECT_EQ(t.current(), 0);
  EXPECT_EQ(t.dropped_spans(), 1u);
  EXPECT_EQ(t.spans().size(), 2u);
}

TEST(TraceTest, ResetReusesCapacity) {
  Trace::Options o;
  o.span_capacity = 16;
  o.arena_capacity = 256;
  Trace t(o);
  for (int round = 0; round < 5; ++round) {
    t.Begin();
    ScopedTrace scope(t);
    for (int i = 0; i < 16; ++i) {
      Span s("s");
      s.SetAttribute("table", "some.table");
      s.AddEvent("ev", {{"k", i}});
    }
    EXPECT_EQ(t.spans().size(), 16u);
  }
  const SpanRecord* data = t.spans().data();
  size_t span_cap = t.span_capacity();
  size_t arena_cap = t.arena_capacity();
  t.Reset();
  EXPECT_TRUE(t.spans().empty());
  EXPECT_FALSE(t.trace_id().valid());
  EXPECT_EQ(t.span_capacity(), span_cap);
  EXPECT_EQ(t.arena_capacity(), arena_cap);
  EXPECT_EQ(span_cap, 16u);
  t.Begin();
  {
    ScopedTrace scope(t);
    Span s("again");
  }
  EXPECT_EQ(t.spans().data(), data);
}

TEST(ScopedTraceTest, NestsAndRestoresPrevious) {
  Trace outer, inner;
  outer.Begin();
  inner.Begin();
  ScopedTrace a(outer);
  {
    ScopedTrace b(inner);
    EXPECT_EQ(CurrentTrace(), &inner);
    Span s("in");
  }
  EXPECT_EQ(CurrentTrace(), &outer);
  Span s("out");
  EXPECT_EQ(inner.spans().size(), 1u);
  EXPECT_EQ(outer.spans().size(), 1u);
}

TEST(TraceSinkTest, OverflowDropsAndCountsWithoutBlocking) {
  TraceSink sink(100);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kPerThread; ++j) {
        auto t = std::make_unique<Trace>(Trace::Options{1, 1, 1, 16, 16});
        t->Begin();
        if (sink.TrySubmit(t)) {
          EXPECT_EQ(t, nullptr);
          ok.fetch_add(1);
        } else {
          EXPECT_NE(t, nullptr);  // a refused trace stays with its caller
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(sink.accepted(), 100u);
  EXPECT_EQ(sink.dropped(), static_cast<uint64_t>(kThreads * kPerThread - 100));
  std::vector<std::unique_ptr<Trace>> out;
  EXPECT_EQ(sink.Drain(out, 30), 30u);
  EXPECT_EQ(sink.Drain(out), 70u);
  EXPECT_EQ(out.size(), 100u);
  for (const auto& t : out) EXPECT_TRUE(t->trace_id().valid());
  auto one = std::make_unique<Trace>();
  EXPECT_TRUE(sink.TrySubmit(one));
  std::unique_ptr<Trace> none;
  EXPECT_FALSE(sink.TrySubmit(none));
}

TEST(TraceSinkTest, SubmitHandsBackWhatTheConsumerRecycled) {
  TraceSink sink(4);
  auto first = std::make_unique<Trace>();
  first->Begin();
  first->EndSpan(first->AddSpan("a", SpanKind::kServer, kNoSpan, 1), 2);
  Trace* const first_ptr = first.get();
  ASSERT_TRUE(sink.TrySubmit(first));
  EXPECT_EQ(first, nullptr);  // nothing recycled yet
  std::vector<std::unique_ptr<Trace>> out;
  ASSERT_EQ(sink.Drain(out), 1u);
  sink.Recycle(out);
  EXPECT_EQ(out[0], nullptr);  // taken back
  auto second = std::make_unique<Trace>();
  ASSERT_TRUE(sink.TrySubmit(second));
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second.get(), first_ptr);  // the recycled trace, reset
  EXPECT_TRUE(second->spans().empty());
}

TEST(TraceSinkTest, ConcurrentProducerAndConsumerLoseNothingBelowCapacity) {
  TraceSink sink(64);
  std::atomic<bool> done{false};
  uint64_t drained = 0;
  std::thread consumer([&] {
    std::vector<std::unique_ptr<Trace>> out;
    while (!done.load() || sink.Drain(out) > 0) {
      sink.Drain(out);
      drained += out.size();
      out.clear();
    }
  });
  std::vector<std::thread> producers;
  for (int i = 0; i < 2; ++i) {
    producers.emplace_back([&] {
      for (int j = 0; j < 2000; ++j) {
        auto t = std::make_unique<Trace>(Trace::Options{1, 1, 1, 1, 1});
        sink.TrySubmit(t);
      }
    });
  }
  for (auto& p : producers) p.join();
  done.store(true);
  consumer.join();
  std::vector<std::unique_ptr<Trace>> rest;
  drained += sink.Drain(rest);
  EXPECT_EQ(drained + sink.dropped(), 4000u);
  EXPECT_EQ(drained, sink.accepted());
}

}  // namespace
}  // namespace kalamdb::trace
