// traces_model.cc: reading and writing Jaeger query-API JSON, and one trace as a tree (self
// time, gaps, critical path, data-quality findings).
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "cli/traces.h"
#include "common/json_writer.h"
#include "common/strings.h"

namespace kalamdb::cli::traces {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string StringOr(element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return {};
}

// An integer field: JSON integer, a whole double, or a decimal string (OTLP style).
std::optional<int64_t> IntField(element e, std::string_view key) {
  element v;
  if (e[key].get(v) != simdjson::SUCCESS) return std::nullopt;
  int64_t i = 0;
  if (v.get_int64().get(i) == simdjson::SUCCESS) return i;
  uint64_t u = 0;
  if (v.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<int64_t>(u);
  double d = 0;
  if (v.get_double().get(d) == simdjson::SUCCESS) return static_cast<int64_t>(std::llround(d));
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS && !s.empty()) {
    int64_t out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      out = out * 10 + (c - '0');
    }
    return out;
  }
  return std::nullopt;
}

std::string FormatNumber(double d) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.9g", d);
  return buf;
}

// [{"key","type","value"}...] -> key/value pairs.
std::vector<KeyValue> ReadKeyValues(element e, std::string_view key) {
  std::vector<KeyValue> out;
  array list;
  if (e[key].get_array().get(list) != simdjson::SUCCESS) return out;
  for (element kv : list) {
    KeyValue item;
    item.key = StringOr(kv, "key");
    element value;
    if (kv["value"].get(value) != simdjson::SUCCESS) continue;
    std::string_view s;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    bool b = false;
    if (value.get_string().get(s) == simdjson::SUCCESS) {
      item.value = std::string(s);
    } else if (value.get_int64().get(i) == simdjson::SUCCESS) {
      item.value = std::to_string(i);
      item.is_number = true;
      item.number = static_cast<double>(i);
    } else if (value.get_uint64().get(u) == simdjson::SUCCESS) {
      item.value = std::to_string(u);
      item.is_number = true;
      item.number = static_cast<double>(u);
    } else if (value.get_double().get(d) == simdjson::SUCCESS) {
      item.value = FormatNumber(d);
      item.is_number = true;
      item.number = d;
    } else if (value.get_bool().get(b) == simdjson::SUCCESS) {
      item.value = b ? "true" : "false";
    } else {
      item.value = simdjson::minify(value);
    }
    out.push_back(std::move(item));
  }
  return out;
}

Span ReadSpan(element e) {
  Span s;
  s.span_id = NormalizeId(StringOr(e, "spanID"), 16);
  s.operation = StringOr(e, "operationName");
  array refs;
  if (e["references"].get_array().get(refs) == simdjson::SUCCESS) {
    std::string first;
    for (element ref : refs) {
      std::string id = StringOr(ref, "spanID");
      if (id.empty()) continue;
      if (StringOr(ref, "refType") == "CHILD_OF") {
        s.parent_id = NormalizeId(id, 16);
        s.follows_from = false;
        first.clear();
        break;
      }
      if (first.empty()) first = NormalizeId(id, 16);
    }
    if (s.parent_id.empty() && !first.empty()) {
      s.parent_id = first;
      s.follows_from = true;
    }
  }
  std::optional<int64_t> start_ns = IntField(e, "startTimeUnixNano");
  std::optional<int64_t> duration_ns = IntField(e, "durationNanos");
  if (start_ns && duration_ns) {
    s.exact = true;
    s.start_ns = *start_ns;
    s.duration_ns = *duration_ns;
  } else {
    s.start_ns = IntField(e, "startTime").value_or(0) * 1000;
    s.duration_ns = IntField(e, "duration").value_or(0) * 1000;
  }
  if (s.duration_ns < 0) s.duration_ns = 0;
  s.tags = ReadKeyValues(e, "tags");
  for (const KeyValue& kv : s.tags) {
    if ((kv.key == "error" && kv.value == "true") ||
        (kv.key == "otel.status_code" && kv.value == "ERROR")) {
      s.error = true;
    }
  }
  array logs;
  if (e["logs"].get_array().get(logs) == simdjson::SUCCESS) {
    for (element log : logs) {
      SpanLog l;
      if (auto ns = IntField(log, "timestampUnixNano")) {
        l.time_ns = *ns;
      } else {
        l.time_ns = IntField(log, "timestamp").value_or(0) * 1000;
      }
      l.fields = ReadKeyValues(log, "fields");
      s.logs.push_back(std::move(l));
    }
  }
  return s;
}

Result<Trace> ReadTrace(element e) {
  Trace t;
  t.trace_id = NormalizeId(StringOr(e, "traceID"), 32);
  array spans;
  if (e["spans"].get_array().get(spans) != simdjson::SUCCESS) {
    return Invalid("a trace without a \"spans\" array");
  }
  for (element span : spans) {
    if (!span.is_object()) return Invalid("a span that is not an object");
    t.spans.push_back(ReadSpan(span));
    if (t.trace_id.find_first_not_of('0') == std::string::npos) {
      // Old fixtures carry the trace id only on spans.
      std::string id = StringOr(span, "traceID");
      if (!id.empty()) t.trace_id = NormalizeId(id, 32);
    }
  }
  return t;
}

bool SameSpan(const Span& a, const Span& b) {
  return a.operation == b.operation && a.parent_id == b.parent_id && a.start_ns == b.start_ns &&
         a.duration_ns == b.duration_ns;
}

}  // namespace

std::string NormalizeId(std::string_view id, size_t width) {
  std::string out(id);
  for (char& c : out) c = AsciiLower(c);
  if (out.size() < width) out.insert(0, width - out.size(), '0');
  return out;
}

size_t TraceSet::SpanCount() const {
  size_t n = 0;
  for (const Trace& t : traces) n += t.spans.size();
  return n;
}

Result<TraceSet> ParseJaeger(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element doc;
  if (auto error = parser.parse(padded).get(doc); error != simdjson::SUCCESS) {
    return Invalid(std::string("not JSON: ") + simdjson::error_message(error));
  }
  TraceSet set;
  element data;
  if (doc.is_array()) {
    data = doc;
  } else if (doc.is_object()) {
    element d;
    if (doc["data"].get(d) == simdjson::SUCCESS && d.is_array()) {
      data = d;
      if (auto limit = IntField(doc, "limit")) set.limit = *limit;
    } else if (doc["spans"].get(d) == simdjson::SUCCESS) {
      auto trace = ReadTrace(doc);
      if (!trace.ok()) return trace.status();
      set.traces.push_back(std::move(trace).value());
      set.data_json = "[" + simdjson::minify(doc) + "]";
      return set;
    } else {
      array errors;
      if (doc["errors"].get_array().get(errors) == simdjson::SUCCESS && errors.size() > 0) {
        std::string msg = StringOr(errors.at(0).value(), "msg");
        return Invalid("the answer holds errors: " + (msg.empty() ? std::string("?") : msg));
      }
      return Invalid("expected {\"data\":[traces...]}, an array of traces or one trace");
    }
  } else {
    return Invalid("expected a JSON object or array");
  }
  array traces = data.get_array().value();
  for (element e : traces) {
    if (!e.is_object()) return Invalid("a trace that is not an object");
    auto trace = ReadTrace(e);
    if (!trace.ok()) return trace.status();
    if (!trace->spans.empty()) set.traces.push_back(std::move(trace).value());
  }
  set.data_json = simdjson::minify(data);
  return set;
}

std::string SaveJaeger(const TraceSet& set) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("data").Raw(set.data_json);
  w.Key("total").Int(static_cast<int64_t>(set.traces.size()));
  w.Key("limit").Int(set.limit);
  w.Key("offset").Int(0);
  w.Key("errors").Null();
  w.EndObject();
  out += '\n';
  return out;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::clamp(p, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (rank - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Distribution Summarize(std::vector<double> values) {
  Distribution d;
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.count = values.size();
  d.sum = std::accumulate(values.begin(), values.end(), 0.0);
  d.mean = d.sum / static_cast<double>(d.count);
  d.p50 = Percentile(values, 0.50);
  d.p95 = Percentile(values, 0.95);
  d.p99 = Percentile(values, 0.99);
  d.max = values.back();
  return d;
}

namespace {

// A child's interval clipped to its parent.
struct Clipped {
  int64_t start = 0, end = 0;
  int child = 0;  // index into the parent's children
};

void Critical(const TraceTree& t, int n, int64_t from, int64_t until, std::vector<Section>& out,
              const std::vector<std::vector<Clipped>>& clipped) {
  const Node& node = t.nodes[static_cast<size_t>(n)];
  // Children that take part, by end descending (ties: the later start first).
  std::vector<Clipped> kids;
  for (const Clipped& c : clipped[static_cast<size_t>(n)]) {
    const Node& child = t.nodes[static_cast<size_t>(node.children[static_cast<size_t>(c.child)])];
    if (c.end > c.start && !child.span->follows_from) kids.push_back(c);
  }
  std::sort(kids.begin(), kids.end(), [](const Clipped& a, const Clipped& b) {
    return a.end != b.end ? a.end > b.end : a.start > b.start;
  });
  int64_t cur = until;
  size_t i = 0;
  while (cur > from) {
    // The child that finished last before `cur` (children still running at `cur` overlap the
    // part of the path already found and are skipped for good).
    while (i < kids.size() && kids[i].end > cur) ++i;
    if (i == kids.size() || kids[i].end <= from) break;
    const Clipped& c = kids[i++];
    if (c.end < cur) out.push_back({n, c.end, cur});
    const int64_t start = std::max(c.start, from);
    Critical(t, node.children[static_cast<size_t>(c.child)], start, c.end, out, clipped);
    cur = start;
  }
  if (cur > from) out.push_back({n, from, cur});
}

}  // namespace

TraceTree BuildTree(const Trace& trace) {
  TraceTree t;
  t.trace = &trace;
  std::unordered_map<std::string, int> by_id;
  for (const Span& s : trace.spans) {
    auto it = by_id.find(s.span_id);
    if (it != by_id.end()) {
      ++t.duplicate_ids;
      if (SameSpan(*t.nodes[static_cast<size_t>(it->second)].span, s)) {
        ++t.copies_dropped;
        continue;
      }
    } else {
      by_id.emplace(s.span_id, static_cast<int>(t.nodes.size()));
    }
    Node n;
    n.span = &s;
    t.nodes.push_back(std::move(n));
    if (!s.exact) t.exact = false;
  }
  const int count = static_cast<int>(t.nodes.size());
  for (int i = 0; i < count; ++i) {
    Node& n = t.nodes[static_cast<size_t>(i)];
    if (n.span->parent_id.empty()) continue;
    auto it = by_id.find(n.span->parent_id);
    if (it == by_id.end() || it->second == i) {
      n.missing_parent = true;
    } else {
      n.parent = it->second;
    }
  }
  // Cut parent links that loop back (malformed input), one per loop.
  for (int i = 0; i < count; ++i) {
    int p = t.nodes[static_cast<size_t>(i)].parent;
    for (int steps = 0; p >= 0 && steps <= count; ++steps) {
      if (p == i) {
        t.nodes[static_cast<size_t>(i)].parent = -1;
        t.nodes[static_cast<size_t>(i)].missing_parent = true;
        ++t.cycles;
        break;
      }
      p = t.nodes[static_cast<size_t>(p)].parent;
    }
  }
  std::vector<int> tops;
  for (int i = 0; i < count; ++i) {
    Node& n = t.nodes[static_cast<size_t>(i)];
    if (n.parent >= 0) {
      t.nodes[static_cast<size_t>(n.parent)].children.push_back(i);
    } else {
      tops.push_back(i);
    }
  }
  auto by_start = [&](int a, int b) {
    const Span& x = *t.nodes[static_cast<size_t>(a)].span;
    const Span& y = *t.nodes[static_cast<size_t>(b)].span;
    if (x.start_ns != y.start_ns) return x.start_ns < y.start_ns;
    return a < b;
  };
  for (Node& n : t.nodes) std::sort(n.children.begin(), n.children.end(), by_start);
  // The root: a span without a parent (earliest, then longest); else the earliest orphan.
  auto better_root = [&](int a, int b) {
    const Node& x = t.nodes[static_cast<size_t>(a)];
    const Node& y = t.nodes[static_cast<size_t>(b)];
    if (x.missing_parent != y.missing_parent) return !x.missing_parent;
    if (x.span->start_ns != y.span->start_ns) return x.span->start_ns < y.span->start_ns;
    if (x.span->duration_ns != y.span->duration_ns) {
      return x.span->duration_ns > y.span->duration_ns;
    }
    return a < b;
  };
  std::sort(tops.begin(), tops.end(), better_root);
  t.root = tops.front();
  std::sort(tops.begin() + 1, tops.end(), by_start);
  for (size_t i = 1; i < tops.size(); ++i) {
    const Node& n = t.nodes[static_cast<size_t>(tops[i])];
    if (n.missing_parent) {
      t.orphans.push_back(tops[i]);
    } else {
      ++t.extra_roots;
    }
  }
  // Depth-first order, paths and depths.
  for (int top : tops) {
    std::vector<int> stack = {top};
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      Node& n = t.nodes[static_cast<size_t>(i)];
      std::string folded_name = n.span->operation;
      std::replace(folded_name.begin(), folded_name.end(), ';', ':');
      if (n.parent < 0) {
        n.depth = 0;
        n.path = n.span->operation;
        n.folded = folded_name;
      } else {
        const Node& p = t.nodes[static_cast<size_t>(n.parent)];
        n.depth = p.depth + 1;
        n.path = p.path + " > " + n.span->operation;
        n.folded = p.folded + ";" + folded_name;
      }
      t.order.push_back(i);
      for (auto it = n.children.rbegin(); it != n.children.rend(); ++it) stack.push_back(*it);
    }
  }
  // Self time, gaps and bounds, per span. A span that overflows its parent is trimmed to it
  // (parents come before their children in `order`).
  std::vector<int64_t> eff_lo(static_cast<size_t>(count)), eff_hi(static_cast<size_t>(count));
  for (int top : tops) {
    eff_lo[static_cast<size_t>(top)] = t.nodes[static_cast<size_t>(top)].span->start_ns;
    eff_hi[static_cast<size_t>(top)] = t.nodes[static_cast<size_t>(top)].span->end_ns();
  }
  std::vector<std::vector<Clipped>> clipped(static_cast<size_t>(count));
  for (int i : t.order) {
    Node& n = t.nodes[static_cast<size_t>(i)];
    const int64_t lo = eff_lo[static_cast<size_t>(i)];
    const int64_t hi = eff_hi[static_cast<size_t>(i)];
    std::vector<Clipped>& list = clipped[static_cast<size_t>(i)];
    for (size_t k = 0; k < n.children.size(); ++k) {
      const size_t child = static_cast<size_t>(n.children[k]);
      const Span& c = *t.nodes[child].span;
      // Whole microseconds can push a child up to 1 µs past its parent.
      const int64_t tolerance = c.exact && n.span->exact ? 0 : 1000;
      const int64_t outside = std::max(n.span->start_ns - c.start_ns, int64_t{0}) +
                              std::max(c.end_ns() - n.span->end_ns(), int64_t{0});
      if (outside > tolerance) t.out_of_bounds.emplace_back(n.children[k], outside);
      const int64_t a = std::max(c.start_ns, lo);
      const int64_t b = std::min(c.end_ns(), hi);
      if (b >= a) {
        list.push_back({a, b, static_cast<int>(k)});
        eff_lo[child] = a;
        eff_hi[child] = b;
      } else {  // entirely outside: empty, and no part of the parent's timeline
        eff_lo[child] = eff_hi[child] = std::clamp(c.start_ns, lo, hi);
      }
    }
    std::sort(list.begin(), list.end(), [](const Clipped& x, const Clipped& y) {
      return x.start != y.start ? x.start < y.start : x.child < y.child;
    });
    if (n.children.empty()) {
      n.self_ns = hi - lo;
      continue;
    }
    auto name = [&](int k) {
      return t.nodes[static_cast<size_t>(n.children[static_cast<size_t>(k)])].span->operation;
    };
    auto add_gap = [&](int64_t from, int64_t to, std::string position, int after) {
      if (to > from) t.gaps.push_back({i, std::move(position), from, to - from, after});
    };
    int64_t covered = 0;
    int64_t cur = lo;      // end of the merged intervals so far
    int last_ending = -1;  // the child that ends at `cur`
    int last_index = -1;   // the highest child index merged so far
    size_t k = 0;
    while (k < list.size()) {
      // One merged group of overlapping (or touching) children.
      const Clipped& first = list[k];
      add_gap(cur, first.start,
              last_ending < 0 ? "start → " + name(first.child)
                              : name(last_ending) + " → " + name(first.child),
              last_index);
      int64_t group_start = first.start;
      int64_t group_end = first.end;
      int ending = first.child;
      int highest = first.child;
      for (++k; k < list.size() && list[k].start <= group_end; ++k) {
        if (list[k].end > group_end) {
          group_end = list[k].end;
          ending = list[k].child;
        }
        highest = std::max(highest, list[k].child);
      }
      covered += group_end - group_start;
      cur = group_end;
      last_ending = ending;
      last_index = highest;
    }
    add_gap(cur, hi, last_ending < 0 ? std::string("start → end") : name(last_ending) + " → end",
            last_index);
    n.self_ns = hi - lo - covered;
  }
  Critical(t, t.root, t.RootNode().span->start_ns, t.RootNode().span->end_ns(), t.critical,
           clipped);
  std::reverse(t.critical.begin(), t.critical.end());
  return t;
}

}  // namespace kalamdb::cli::traces
