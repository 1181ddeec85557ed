// traces_render.cc: the human report, the JSON summary, folded stacks and the diff of two runs.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>

#include "cli/traces.h"
#include "common/json_writer.h"

namespace kalamdb::cli::traces {
namespace {

constexpr int kBarWidth = 40;
constexpr size_t kMaxWaterfallLines = 300;
constexpr size_t kMaxPathRows = 40;
constexpr size_t kMaxGapRows = 20;
constexpr size_t kMaxCriticalLines = 60;

// printf-style append.
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void Append(std::string& out, const char* format, ...) {
  char buf[1024];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  if (n < 0) return;
  out.append(buf, std::min(static_cast<size_t>(n), sizeof(buf) - 1));
}

// Right-aligns `text` in `width` columns, counting UTF-8 code points (µ, Δ, →), not bytes.
std::string Pad(std::string_view text, size_t width) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return std::string(width > n ? width - n : 0, ' ') + std::string(text);
}

std::string Us(double ns) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.3f", ns / 1000.0);
  return buf;
}

std::string Percent(double fraction) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.1f%%", fraction * 100.0);
  return buf;
}

bool NoiseTag(std::string_view key) {
  return key.starts_with("otel.") || key == "span.kind" || key == "error" ||
         key == "internal.span.format";
}

std::string Clip(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "…";
}

std::string Attributes(const std::vector<KeyValue>& kvs) {
  std::string out;
  for (const KeyValue& kv : kvs) {
    if (NoiseTag(kv.key)) continue;
    out += "  " + kv.key + "=" + Clip(kv.value, 48);
  }
  return out;
}

std::string Bar(int64_t start, int64_t end, int64_t origin, int64_t scale, char fill) {
  std::string bar(kBarWidth, ' ');
  const double s = static_cast<double>(scale > 0 ? scale : 1);
  int a = static_cast<int>(std::floor(static_cast<double>(start - origin) / s * kBarWidth));
  int b = static_cast<int>(std::ceil(static_cast<double>(end - origin) / s * kBarWidth));
  a = std::clamp(a, 0, kBarWidth - 1);
  b = std::clamp(b, a + 1, kBarWidth);
  for (int i = a; i < b; ++i) bar[static_cast<size_t>(i)] = fill;
  return "|" + bar + "|";
}

class WaterfallPrinter {
 public:
  WaterfallPrinter(std::string& out, const TraceTree& t, double threshold_ns)
      : out_(out), t_(t), threshold_ns_(threshold_ns) {
    origin_ = t.RootNode().span->start_ns;
    scale_ = t.RootDurationNs();
    for (size_t g = 0; g < t.gaps.size(); ++g) gaps_by_parent_[t.gaps[g].parent].push_back(g);
  }

  void Print() {
    for (int i : t_.order) {
      if (t_.nodes[static_cast<size_t>(i)].parent < 0) Span(i);
    }
    if (lines_ > kMaxWaterfallLines) {
      Append(out_, "  … %zu more lines\n", lines_ - kMaxWaterfallLines);
    }
  }

 private:
  bool Room() { return ++lines_ <= kMaxWaterfallLines; }

  void Span(int i) {
    const Node& n = t_.nodes[static_cast<size_t>(i)];
    const traces::Span& s = *n.span;
    const std::string indent(static_cast<size_t>(n.depth) * 2, ' ');
    if (Room()) {
      std::string name = s.operation;
      if (n.missing_parent && i != t_.root) name = "(orphan) " + name;
      if (s.error) name += " [ERROR]";
      Append(out_, "%11s %10s %10s  %s  %s%s%s\n",
             Us(static_cast<double>(s.start_ns - origin_)).c_str(),
             Us(static_cast<double>(s.duration_ns)).c_str(),
             Us(static_cast<double>(n.self_ns)).c_str(),
             Bar(s.start_ns, s.end_ns(), origin_, scale_, '#').c_str(), indent.c_str(),
             name.c_str(), Attributes(s.tags).c_str());
    }
    for (const SpanLog& log : s.logs) {
      if (!Room()) continue;
      std::string event = "event";
      std::vector<KeyValue> fields;
      for (const KeyValue& kv : log.fields) {
        if (kv.key == "event") {
          event = kv.value;
        } else {
          fields.push_back(kv);
        }
      }
      Append(out_, "%11s %10s %10s  %s  %s  @ %s%s\n",
             Us(static_cast<double>(log.time_ns - origin_)).c_str(), "", "",
             Bar(log.time_ns, log.time_ns, origin_, scale_, '^').c_str(), indent.c_str(),
             event.c_str(), Attributes(fields).c_str());
    }
    Gaps(i, -1, indent);
    for (size_t k = 0; k < n.children.size(); ++k) {
      Span(n.children[k]);
      Gaps(i, static_cast<int>(k), indent);
    }
  }

  void Gaps(int parent, int after, const std::string& indent) {
    auto it = gaps_by_parent_.find(parent);
    if (it == gaps_by_parent_.end()) return;
    for (size_t g : it->second) {
      const Gap& gap = t_.gaps[g];
      if (gap.after_child != after || static_cast<double>(gap.duration_ns) <= threshold_ns_) {
        continue;
      }
      if (!Room()) continue;
      Append(out_, "%11s %10s %10s  %s  %s  ~ gap [%s]\n",
             Us(static_cast<double>(gap.start_ns - origin_)).c_str(),
             Us(static_cast<double>(gap.duration_ns)).c_str(), "",
             Bar(gap.start_ns, gap.start_ns + gap.duration_ns, origin_, scale_, '.').c_str(),
             indent.c_str(), gap.position.c_str());
    }
  }

  std::string& out_;
  const TraceTree& t_;
  double threshold_ns_;
  int64_t origin_ = 0;
  int64_t scale_ = 1;
  size_t lines_ = 0;
  std::map<int, std::vector<size_t>> gaps_by_parent_;
};

void Waterfall(std::string& out, const TraceTree& t, const std::string& title,
               double threshold_ns) {
  Append(out, "\n== waterfall: %s trace %s: %s %s µs, %zu spans ==\n", title.c_str(),
         t.trace->trace_id.c_str(), t.RootNode().span->operation.c_str(),
         Us(static_cast<double>(t.RootDurationNs())).c_str(), t.nodes.size());
  Append(out, "%s %s %s  %-*s  %s\n", Pad("offset µs", 11).c_str(), Pad("dur µs", 10).c_str(),
         Pad("self µs", 10).c_str(), kBarWidth + 2, "timeline",
         "span (~ gap above the threshold, @ event)");
  WaterfallPrinter(out, t, threshold_ns).Print();
}

void PathTable(std::string& out, const std::vector<PathStats>& paths, const char* base) {
  Append(out, "%7s %10s %10s %10s %10s %10s %10s %6s %6s  %s\n", "count", "mean", "p50", "p95",
         "p99", "max", "self p50", "self%", "share", "path");
  for (size_t i = 0; i < paths.size() && i < kMaxPathRows; ++i) {
    const PathStats& p = paths[i];
    Append(out, "%7zu %10s %10s %10s %10s %10s %10s %6s %6s  %s\n", p.total.count,
           Us(p.total.mean).c_str(), Us(p.total.p50).c_str(), Us(p.total.p95).c_str(),
           Us(p.total.p99).c_str(), Us(p.total.max).c_str(), Us(p.self.p50).c_str(),
           Percent(p.self_share_of_root).c_str(), Percent(p.share_of_root).c_str(), p.path.c_str());
  }
  if (paths.size() > kMaxPathRows) {
    Append(out, "  … %zu more paths (--json lists all)\n", paths.size() - kMaxPathRows);
  }
  Append(out,
         "  (µs; self = duration minus the union of the children; self%% = total self time / "
         "total %s time; share = mean / mean %s)\n",
         base, base);
}

std::string GapPlace(const GapStats& g) { return g.parent_path + " [" + g.position + "]"; }

void Json(JsonWriter& w, const char* key, double ns) { w.Key(key).Double(ns / 1000.0, 3); }

void PathsJson(JsonWriter& w, const std::vector<PathStats>& paths) {
  w.BeginArray();
  for (const PathStats& p : paths) {
    w.BeginObject();
    w.Key("path").String(p.path);
    w.Key("count").Int(static_cast<int64_t>(p.total.count));
    Json(w, "mean_us", p.total.mean);
    Json(w, "p50_us", p.total.p50);
    Json(w, "p95_us", p.total.p95);
    Json(w, "p99_us", p.total.p99);
    Json(w, "max_us", p.total.max);
    Json(w, "self_mean_us", p.self.mean);
    Json(w, "self_p50_us", p.self.p50);
    Json(w, "self_p95_us", p.self.p95);
    Json(w, "self_total_us", p.self.sum);
    w.Key("share_of_root").Double(p.share_of_root, 4);
    w.Key("self_share_of_root").Double(p.self_share_of_root, 4);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string Headlines(const Analysis& a) {
  std::string out = "span with most self time: ";
  if (a.paths.empty()) {
    out += "none\n";
  } else {
    const PathStats& p = a.paths.front();
    out += p.path + " (" + Us(p.self.p50) + " µs p50, " + Percent(p.self_share_of_root) +
           " of root)\n";
  }
  out += "largest unaccounted gap: ";
  if (a.gaps.empty()) {
    out += "none\n";
  } else {
    const GapStats& g = a.gaps.front();
    out += GapPlace(g) + " (" + Us(g.mean_ns) + " µs mean over " + std::to_string(g.traces) +
           " traces)\n";
  }
  return out;
}

std::string RenderHuman(const Analysis& a) {
  std::string out;
  const Options& o = a.options;
  const double threshold_ns = o.gap_threshold_us * 1000.0;
  Append(out, "kalam traces: %zu traces with a%s %s span (of %zu read), %zu spans, %s precision\n",
         a.trees.size(), o.operation.empty() ? "ny" : "",
         o.operation.empty() ? "" : o.operation.c_str(), a.fetched, a.spans, a.exact ? "ns" : "µs");
  if (a.empty()) {
    out += "no matching traces\n";
    for (const std::string& w : a.warnings) out += "  - " + w + "\n";
    return out;
  }
  Append(out,
         "root %s (µs): mean %s  p50 %s  p95 %s  p99 %s  max %s  (percentiles interpolate "
         "linearly between closest ranks)\n",
         a.root_name.c_str(), Us(a.root.mean).c_str(), Us(a.root.p50).c_str(),
         Us(a.root.p95).c_str(), Us(a.root.p99).c_str(), Us(a.root.max).c_str());

  // (1) Waterfalls: the slowest, the median, then the next slowest ones.
  const size_t n = a.trees.size();
  const size_t median = (n - 1) / 2;
  Waterfall(out, a.trees[n - 1], "slowest", threshold_ns);
  if (median != n - 1) Waterfall(out, a.trees[median], "median", threshold_ns);
  int extra = 0;
  for (size_t i = n - 1; i-- > 0 && extra < o.extra_waterfalls;) {
    if (i == median) continue;
    ++extra;
    Waterfall(out, a.trees[i], "slowest #" + std::to_string(n - i), threshold_ns);
  }

  // (2) Gaps.
  Append(out, "\n== unaccounted time inside spans: gaps above %s µs (summed per trace) ==\n",
         Us(threshold_ns).c_str());
  size_t shown = 0;
  for (const GapStats& g : a.gaps) {
    if (g.max_ns <= threshold_ns) continue;
    if (shown == 0) {
      Append(out, "%7s %7s %10s %10s %11s  %s\n", "traces", ">thr", "mean µs", "max µs", "total µs",
             "parent [position]");
    }
    if (++shown > kMaxGapRows) continue;
    Append(out, "%7zu %7zu %10s %10s %11s  %s\n", g.traces, g.over_threshold, Us(g.mean_ns).c_str(),
           Us(g.max_ns).c_str(), Us(g.total_ns).c_str(), GapPlace(g).c_str());
  }
  if (shown > kMaxGapRows) Append(out, "  … %zu more\n", shown - kMaxGapRows);
  if (shown == 0) out += "  (none; lower --gap-threshold-us to see smaller ones)\n";

  // (3) Per path.
  Append(out, "\n== spans by path over %zu traces, by total self time ==\n", n);
  PathTable(out, a.paths, "root");
  if (!a.operation_paths.empty()) {
    Append(out, "\n== spans under %s, by path ==\n", o.operation.c_str());
    PathTable(out, a.operation_paths, o.operation.c_str());
  }

  // (4) Critical path.
  const TraceTree& slowest = a.trees.back();
  Append(out, "\n== critical path ==\nslowest trace %s (forward in time):\n",
         slowest.trace->trace_id.c_str());
  Append(out, "%s %10s  %s\n", Pad("offset µs", 11).c_str(), "on path", "span");
  const int64_t origin = slowest.RootNode().span->start_ns;
  for (size_t i = 0; i < slowest.critical.size() && i < kMaxCriticalLines; ++i) {
    const Section& s = slowest.critical[i];
    Append(out, "%11s %10s  %s\n", Us(static_cast<double>(s.start_ns - origin)).c_str(),
           Us(static_cast<double>(s.end_ns - s.start_ns)).c_str(),
           slowest.nodes[static_cast<size_t>(s.node)].path.c_str());
  }
  if (slowest.critical.size() > kMaxCriticalLines) {
    Append(out, "  … %zu more sections\n", slowest.critical.size() - kMaxCriticalLines);
  }
  Append(out, "time on the critical path per operation, over %zu traces:\n", n);
  Append(out, "%s %12s %7s  %s\n", Pad("total µs", 12).c_str(), "per trace", "share", "operation");
  for (const CriticalStats& c : a.critical) {
    Append(out, "%12s %12s %7s  %s\n", Us(c.total_ns).c_str(),
           Us(c.total_ns / static_cast<double>(n)).c_str(), Percent(c.share).c_str(),
           c.operation.c_str());
  }

  // (5) Tail.
  if (a.slow_count == 0) {
    out += "\n== slowest traces vs the rest ==\n  (needs at least 2 traces)\n";
  } else {
    Append(out, "\n== slowest %g%% (%zu traces, root ≥ %s µs) vs the other %zu ==\n",
           o.slow_percent, a.slow_count, Us(a.slow_from_ns).c_str(), n - a.slow_count);
    Append(out, "root p50: %s µs vs %s µs; spans per trace: %.1f vs %.1f\n",
           Us(a.slow_root_p50).c_str(), Us(a.rest_root_p50).c_str(), a.slow_spans, a.rest_spans);
    if (a.tail_paths.empty()) {
      out += "self time per trace: no path grew\n";
    } else {
      out += "self time per trace that grew most:\n";
      Append(out, "%s %s %s  %s\n", Pad("slow µs", 11).c_str(), Pad("rest µs", 11).c_str(),
             Pad("delta µs", 11).c_str(), "path");
      for (const TailPath& p : a.tail_paths) {
        Append(out, "%11s %11s %+11.3f  %s\n", Us(p.slow_ns).c_str(), Us(p.rest_ns).c_str(),
               (p.slow_ns - p.rest_ns) / 1000.0, p.path.c_str());
      }
    }
    if (a.tail_attributes.empty()) {
      out += "attributes: no value differs in frequency by 10 points or more\n";
    } else {
      out += "attributes that differ (share of traces, or mean of numeric values):\n";
      Append(out, "%11s %11s  %s\n", "slow", "rest", "attribute");
      for (const TailAttribute& t : a.tail_attributes) {
        if (t.numeric) {
          Append(out, "%11.6g %11.6g  %s (mean)\n", t.slow, t.rest, t.name.c_str());
        } else {
          Append(out, "%11s %11s  %s=%s\n", Percent(t.slow).c_str(), Percent(t.rest).c_str(),
                 t.name.c_str(), Clip(t.value, 60).c_str());
        }
      }
    }
  }

  // (6) Warnings.
  out += "\n== warnings ==\n";
  if (a.warnings.empty()) out += "  (none)\n";
  for (const std::string& w : a.warnings) out += "  - " + w + "\n";
  out += "\n";
  out += Headlines(a);
  return out;
}

std::string RenderJson(const Analysis& a) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("traces").Int(static_cast<int64_t>(a.trees.size()));
  w.Key("fetched").Int(static_cast<int64_t>(a.fetched));
  w.Key("spans").Int(static_cast<int64_t>(a.spans));
  w.Key("operation").String(a.options.operation);
  w.Key("precision").String(a.exact ? "ns" : "us");
  w.Key("gap_threshold_us").Double(a.options.gap_threshold_us, 3);
  w.Key("root").BeginObject();
  w.Key("operation").String(a.root_name);
  w.Key("count").Int(static_cast<int64_t>(a.root.count));
  Json(w, "mean_us", a.root.mean);
  Json(w, "p50_us", a.root.p50);
  Json(w, "p95_us", a.root.p95);
  Json(w, "p99_us", a.root.p99);
  Json(w, "max_us", a.root.max);
  w.EndObject();
  w.Key("paths");
  PathsJson(w, a.paths);
  w.Key("operation_paths");
  PathsJson(w, a.operation_paths);
  w.Key("gaps").BeginArray();
  for (const GapStats& g : a.gaps) {
    w.BeginObject();
    w.Key("parent_path").String(g.parent_path);
    w.Key("position").String(g.position);
    w.Key("count").Int(static_cast<int64_t>(g.traces));
    w.Key("over_threshold").Int(static_cast<int64_t>(g.over_threshold));
    Json(w, "mean_us", g.mean_ns);
    Json(w, "max_us", g.max_ns);
    Json(w, "total_us", g.total_ns);
    w.EndObject();
  }
  w.EndArray();
  w.Key("critical_path").BeginArray();
  for (const CriticalStats& c : a.critical) {
    w.BeginObject();
    w.Key("operation").String(c.operation);
    Json(w, "total_us", c.total_ns);
    w.Key("share").Double(c.share, 4);
    w.EndObject();
  }
  w.EndArray();
  w.Key("tail").BeginObject();
  w.Key("slow_traces").Int(static_cast<int64_t>(a.slow_count));
  w.Key("rest_traces")
      .Int(static_cast<int64_t>(a.slow_count > 0 ? a.trees.size() - a.slow_count : 0));
  Json(w, "slow_from_us", a.slow_from_ns);
  Json(w, "slow_root_p50_us", a.slow_root_p50);
  Json(w, "rest_root_p50_us", a.rest_root_p50);
  w.Key("paths").BeginArray();
  for (const TailPath& p : a.tail_paths) {
    w.BeginObject();
    w.Key("path").String(p.path);
    Json(w, "slow_self_us", p.slow_ns);
    Json(w, "rest_self_us", p.rest_ns);
    Json(w, "delta_us", p.slow_ns - p.rest_ns);
    w.EndObject();
  }
  w.EndArray();
  w.Key("attributes").BeginArray();
  for (const TailAttribute& t : a.tail_attributes) {
    w.BeginObject();
    w.Key("attribute").String(t.name);
    if (t.numeric) {
      w.Key("value").Null();
    } else {
      w.Key("value").String(t.value);
    }
    w.Key("numeric").Bool(t.numeric);
    w.Key("slow").Double(t.slow, 4);
    w.Key("rest").Double(t.rest, 4);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.Key("warnings").BeginArray();
  for (const std::string& warning : a.warnings) w.String(warning);
  w.EndArray();
  std::string headlines = Headlines(a);
  const size_t newline = headlines.find('\n');
  w.Key("headlines").BeginObject();
  w.Key("most_self_time").String(headlines.substr(0, newline));
  w.Key("largest_gap").String(headlines.substr(newline + 1, headlines.size() - newline - 2));
  w.EndObject();
  w.EndObject();
  out += '\n';
  return out;
}

std::string RenderFolded(const Analysis& a) {
  std::vector<const PathStats*> paths;
  for (const PathStats& p : a.paths) paths.push_back(&p);
  std::sort(paths.begin(), paths.end(),
            [](const PathStats* x, const PathStats* y) { return x->folded < y->folded; });
  std::string out;
  for (const PathStats* p : paths) {
    Append(out, "%s %lld\n", p->folded.c_str(),
           static_cast<long long>(std::llround(p->self.sum / 1000.0)));
  }
  return out;
}

namespace {

std::string Delta(double before, double after) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%+.3f", (after - before) / 1000.0);
  return buf;
}

std::string DeltaPercent(double before, double after) {
  if (before == 0) return "n/a";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%+.1f%%", (after - before) / before * 100.0);
  return buf;
}

}  // namespace

std::string RenderDiff(const Analysis& before, const Analysis& after) {
  std::string out;
  Append(out,
         "== diff: before %zu traces (root p50 %s µs, p95 %s µs) → after %zu traces (root p50 %s "
         "µs, p95 %s µs) ==\n",
         before.trees.size(), Us(before.root.p50).c_str(), Us(before.root.p95).c_str(),
         after.trees.size(), Us(after.root.p50).c_str(), Us(after.root.p95).c_str());
  Append(out, "root p50 %s µs (%s), p95 %s µs (%s)\n",
         Delta(before.root.p50, after.root.p50).c_str(),
         DeltaPercent(before.root.p50, after.root.p50).c_str(),
         Delta(before.root.p95, after.root.p95).c_str(),
         DeltaPercent(before.root.p95, after.root.p95).c_str());
  const std::vector<std::pair<std::string, size_t>> header = {
      {"p50 before", 10}, {"after", 10}, {"Δ µs", 10}, {"Δ%", 7},        {"p95 before", 10},
      {"after", 10},      {"Δ µs", 10},  {"Δ%", 7},    {"self p50", 10}, {"after", 10},
      {"Δ µs", 10},       {"Δ%", 7},     {"count", 11}};
  auto row = [&](const std::vector<std::string>& cells, const std::string& path) {
    for (size_t i = 0; i < cells.size(); ++i) {
      out += Pad(cells[i], header[i].second);
      out += i + 1 == cells.size() ? "  " : (i % 4 == 3 ? " | " : " ");
    }
    out += path + "\n";
  };
  std::vector<std::string> titles;
  for (const auto& [title, width] : header) titles.push_back(title);
  row(titles, "path");
  for (const DiffRow& r : DiffPaths(before, after)) {
    const bool both = r.before_present && r.after_present;
    auto side = [](bool present, double ns) { return present ? Us(ns) : std::string("-"); };
    auto delta = [&](double b, double x) {
      return both ? Delta(b, x) : std::string(r.after_present ? "added" : "removed");
    };
    auto pct = [&](double b, double x) { return both ? DeltaPercent(b, x) : std::string(); };
    const std::string counts = std::to_string(r.count_before) + "→" + std::to_string(r.count_after);
    row({side(r.before_present, r.p50_before), side(r.after_present, r.p50_after),
         delta(r.p50_before, r.p50_after), pct(r.p50_before, r.p50_after),
         side(r.before_present, r.p95_before), side(r.after_present, r.p95_after),
         delta(r.p95_before, r.p95_after), pct(r.p95_before, r.p95_after),
         side(r.before_present, r.self_p50_before), side(r.after_present, r.self_p50_after),
         delta(r.self_p50_before, r.self_p50_after), pct(r.self_p50_before, r.self_p50_after),
         counts},
        r.path);
  }
  return out;
}

std::string RenderDiffJson(const Analysis& before, const Analysis& after) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  for (const auto& [key, a] : {std::pair{"before", &before}, std::pair{"after", &after}}) {
    w.Key(key).BeginObject();
    w.Key("traces").Int(static_cast<int64_t>(a->trees.size()));
    Json(w, "root_p50_us", a->root.p50);
    Json(w, "root_p95_us", a->root.p95);
    w.EndObject();
  }
  w.Key("paths").BeginArray();
  for (const DiffRow& r : DiffPaths(before, after)) {
    const bool both = r.before_present && r.after_present;
    w.BeginObject();
    w.Key("path").String(r.path);
    w.Key("status").String(both ? "common" : (r.after_present ? "added" : "removed"));
    w.Key("count_before").Int(static_cast<int64_t>(r.count_before));
    w.Key("count_after").Int(static_cast<int64_t>(r.count_after));
    auto figure = [&](const std::string& name, double b, double x) {
      if (r.before_present) {
        Json(w, (name + "_before_us").c_str(), b);
      } else {
        w.Key(name + "_before_us").Null();
      }
      if (r.after_present) {
        Json(w, (name + "_after_us").c_str(), x);
      } else {
        w.Key(name + "_after_us").Null();
      }
      if (both) {
        Json(w, (name + "_delta_us").c_str(), x - b);
        if (b != 0) {
          w.Key(name + "_delta_pct").Double((x - b) / b * 100.0, 3);
        } else {
          w.Key(name + "_delta_pct").Null();
        }
      } else {
        w.Key(name + "_delta_us").Null();
        w.Key(name + "_delta_pct").Null();
      }
    };
    figure("p50", r.p50_before, r.p50_after);
    figure("p95", r.p95_before, r.p95_after);
    figure("self_p50", r.self_p50_before, r.self_p50_after);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out += '\n';
  return out;
}

}  // namespace kalamdb::cli::traces
