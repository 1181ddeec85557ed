// traces_analysis.cc: statistics over many traces (per path, gaps, critical path, tail,
// warnings) and the per-path comparison of two runs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "cli/traces.h"

namespace kalamdb::cli::traces {
namespace {

struct PathAccumulator {
  std::string folded;
  std::string operation;
  int depth = 0;
  std::vector<double> total;
  std::vector<double> self;
};

std::vector<PathStats> Finish(std::map<std::string, PathAccumulator>& paths, double base_mean,
                              double base_sum) {
  std::vector<PathStats> out;
  out.reserve(paths.size());
  for (auto& [path, acc] : paths) {
    PathStats p;
    p.path = path;
    p.folded = acc.folded;
    p.operation = acc.operation;
    p.depth = acc.depth;
    p.total = Summarize(std::move(acc.total));
    p.self = Summarize(std::move(acc.self));
    p.share_of_root = base_mean > 0 ? p.total.mean / base_mean : 0;
    p.self_share_of_root = base_sum > 0 ? p.self.sum / base_sum : 0;
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const PathStats& a, const PathStats& b) {
    return a.self.sum != b.self.sum ? a.self.sum > b.self.sum : a.path < b.path;
  });
  return out;
}

// "a ×3, b ×1" from counts, most frequent first.
std::string CountList(const std::map<std::string, size_t>& counts, size_t limit = 6) {
  std::vector<std::pair<std::string, size_t>> items(counts.begin(), counts.end());
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) {
    if (i > 0) out += ", ";
    out += items[i].first + " ×" + std::to_string(items[i].second);
  }
  if (items.size() > limit) out += ", …";
  return out;
}

size_t Total(const std::map<std::string, size_t>& counts) {
  size_t n = 0;
  for (const auto& [name, count] : counts) n += count;
  return n;
}

std::string Micros(double ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", ns / 1000.0);
  return buf;
}

bool NoiseTag(std::string_view key) {
  return key.starts_with("otel.") || key == "span.kind" || key == "error" ||
         key == "internal.span.format";
}

void AnalyzeTail(Analysis& a) {
  const size_t n = a.trees.size();
  if (n < 2) return;
  size_t slow = static_cast<size_t>(
      std::ceil(static_cast<double>(n) * a.options.slow_percent / 100.0 - 1e-9));
  slow = std::clamp<size_t>(slow, 1, n - 1);
  a.slow_count = slow;
  const size_t first_slow = n - slow;
  a.slow_from_ns = static_cast<double>(a.trees[first_slow].RootDurationNs());
  std::vector<double> slow_roots, rest_roots;
  // Per trace: self time per path; tag values seen; numeric tag values.
  std::map<std::string, std::pair<double, double>> self;  // path -> (slow sum, rest sum)
  // (operation key) -> value -> (slow traces, rest traces)
  std::map<std::string, std::map<std::string, std::pair<size_t, size_t>>> categorical;
  // (operation key) -> (slow values, rest values)
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> numeric;
  std::map<std::string, bool> all_numeric;
  double slow_spans = 0, rest_spans = 0;
  for (size_t i = 0; i < n; ++i) {
    const TraceTree& t = a.trees[i];
    const bool is_slow = i >= first_slow;
    (is_slow ? slow_roots : rest_roots).push_back(static_cast<double>(t.RootDurationNs()));
    (is_slow ? slow_spans : rest_spans) += static_cast<double>(t.nodes.size());
    std::set<std::pair<std::string, std::string>> seen;
    for (const Node& node : t.nodes) {
      auto& entry = self[node.path];
      (is_slow ? entry.first : entry.second) += static_cast<double>(node.self_ns);
      auto note = [&](const std::string& name, const KeyValue& kv) {
        seen.emplace(name, kv.value);
        auto [it, inserted] = all_numeric.emplace(name, kv.is_number);
        if (!kv.is_number) it->second = false;
        if (kv.is_number) {
          auto& values = numeric[name];
          (is_slow ? values.first : values.second).push_back(kv.number);
        }
      };
      for (const KeyValue& kv : node.span->tags) {
        if (!NoiseTag(kv.key)) note(node.span->operation + " " + kv.key, kv);
      }
      for (const SpanLog& log : node.span->logs) {
        std::string event = "event";
        for (const KeyValue& kv : log.fields) {
          if (kv.key == "event") event = kv.value;
        }
        for (const KeyValue& kv : log.fields) {
          if (kv.key != "event") note(node.span->operation + " " + event + "." + kv.key, kv);
        }
      }
    }
    for (const auto& [name, value] : seen) {
      auto& counts = categorical[name][value];
      ++(is_slow ? counts.first : counts.second);
    }
  }
  const double ns = static_cast<double>(slow), nr = static_cast<double>(n - slow);
  a.slow_spans = slow_spans / ns;
  a.rest_spans = rest_spans / nr;
  a.slow_root_p50 = Summarize(slow_roots).p50;
  a.rest_root_p50 = Summarize(rest_roots).p50;
  for (const auto& [path, sums] : self) {
    TailPath p{path, sums.first / ns, sums.second / nr};
    if (p.slow_ns - p.rest_ns > 0.5) a.tail_paths.push_back(std::move(p));
  }
  std::sort(a.tail_paths.begin(), a.tail_paths.end(), [](const TailPath& x, const TailPath& y) {
    const double dx = x.slow_ns - x.rest_ns, dy = y.slow_ns - y.rest_ns;
    return dx != dy ? dx > dy : x.path < y.path;
  });
  if (a.tail_paths.size() > 10) a.tail_paths.resize(10);
  // Attributes with few distinct values compare by frequency, numeric ones by mean.
  for (const auto& [name, values] : categorical) {
    if (values.size() > 10) {
      if (!all_numeric[name]) continue;
      const auto& [slow_values, rest_values] = numeric[name];
      if (slow_values.empty() || rest_values.empty()) continue;
      TailAttribute attr{name, "", true, Summarize(slow_values).mean, Summarize(rest_values).mean};
      const double base = std::max(std::fabs(attr.slow), std::fabs(attr.rest));
      if (base > 0 && std::fabs(attr.slow - attr.rest) / base >= 0.10) {
        a.tail_attributes.push_back(std::move(attr));
      }
      continue;
    }
    for (const auto& [value, counts] : values) {
      TailAttribute attr{name, value, false, static_cast<double>(counts.first) / ns,
                         static_cast<double>(counts.second) / nr};
      if (std::fabs(attr.slow - attr.rest) >= 0.10) a.tail_attributes.push_back(std::move(attr));
    }
  }
  auto weight = [](const TailAttribute& x) {
    if (!x.numeric) return std::fabs(x.slow - x.rest);
    return std::fabs(x.slow - x.rest) / std::max(std::fabs(x.slow), std::fabs(x.rest));
  };
  std::stable_sort(
      a.tail_attributes.begin(), a.tail_attributes.end(),
      [&](const TailAttribute& x, const TailAttribute& y) { return weight(x) > weight(y); });
  if (a.tail_attributes.size() > 10) a.tail_attributes.resize(10);
}

void Warn(Analysis& a, const TraceSet& set, size_t skipped) {
  std::map<std::string, size_t> orphans, zero, errors, bounds;
  size_t duplicate = 0, dropped = 0, duplicate_traces = 0, extra_roots = 0, cycles = 0;
  int64_t worst_bounds = 0;
  std::string worst_bounds_path;
  for (const TraceTree& t : a.trees) {
    for (int i : t.orphans) ++orphans[t.nodes[static_cast<size_t>(i)].span->operation];
    for (const auto& [i, outside] : t.out_of_bounds) {
      const Node& n = t.nodes[static_cast<size_t>(i)];
      const std::string key =
          t.nodes[static_cast<size_t>(n.parent)].span->operation + " > " + n.span->operation;
      ++bounds[key];
      if (outside > worst_bounds) {
        worst_bounds = outside;
        worst_bounds_path = n.path;
      }
    }
    for (const Node& n : t.nodes) {
      if (n.span->duration_ns == 0) ++zero[n.span->operation];
      if (n.span->error) ++errors[n.span->operation];
    }
    if (t.duplicate_ids > 0) ++duplicate_traces;
    duplicate += static_cast<size_t>(t.duplicate_ids);
    dropped += static_cast<size_t>(t.copies_dropped);
    if (t.extra_roots > 0) ++extra_roots;
    cycles += static_cast<size_t>(t.cycles);
  }
  auto& w = a.warnings;
  if (!a.empty() && !a.exact) {
    w.push_back(
        "precision: times are whole microseconds (no startTimeUnixNano/durationNanos); "
        "sub-microsecond spans and gaps are lost (the server's store gives ns with "
        "precision=ns)");
  }
  if (set.limit > 0 && static_cast<int64_t>(set.traces.size()) >= set.limit) {
    w.push_back("truncated: fetched " + std::to_string(set.traces.size()) +
                " traces = the limit; older matching traces were not fetched (raise --last)");
  }
  if (skipped > 0) {
    w.push_back("skipped: " + std::to_string(skipped) + " of " + std::to_string(a.fetched) +
                " traces have no " + a.options.operation + " span");
  }
  if (!orphans.empty()) {
    w.push_back("orphan spans (parent not in the trace): " + std::to_string(Total(orphans)) + " (" +
                CountList(orphans) + ")");
  }
  if (!bounds.empty()) {
    w.push_back("children outside their parent's bounds: " + std::to_string(Total(bounds)) + " (" +
                CountList(bounds) + "); worst " + Micros(static_cast<double>(worst_bounds)) +
                " µs at " + worst_bounds_path + "; clipped to the parent");
  }
  if (!zero.empty()) {
    w.push_back(
        "zero-duration spans: " + std::to_string(Total(zero)) + " (" + CountList(zero) + ")" +
        (a.exact ? std::string() : std::string("; likely microsecond truncation of sub-µs spans")));
  }
  if (duplicate > 0) {
    w.push_back("duplicate span ids: " + std::to_string(duplicate) + " in " +
                std::to_string(duplicate_traces) + " trace(s); " + std::to_string(dropped) +
                " exact copies ignored");
  }
  if (cycles > 0) {
    w.push_back("parent loops: " + std::to_string(cycles) + " link(s) cut");
  }
  if (extra_roots > 0) {
    w.push_back("several root spans: " + std::to_string(extra_roots) +
                " trace(s) have more than one span without a parent");
  }
  if (!errors.empty()) {
    w.push_back("error spans: " + std::to_string(Total(errors)) + " (" + CountList(errors, 20) +
                ")");
  }
}

}  // namespace

const PathStats* Analysis::FindPath(std::string_view path) const {
  for (const PathStats& p : paths) {
    if (p.path == path) return &p;
  }
  return nullptr;
}

Analysis Analyze(const TraceSet& set, const Options& options) {
  Analysis a;
  a.options = options;
  a.fetched = set.traces.size();
  size_t skipped = 0;
  for (const Trace& trace : set.traces) {
    bool match = options.operation.empty();
    for (const Span& s : trace.spans) {
      if (s.operation == options.operation) match = true;
    }
    if (!match || trace.spans.empty()) {
      ++skipped;
      continue;
    }
    a.trees.push_back(BuildTree(trace));
    a.spans += trace.spans.size();
    if (!a.trees.back().exact) a.exact = false;
  }
  std::stable_sort(a.trees.begin(), a.trees.end(), [](const TraceTree& x, const TraceTree& y) {
    return x.RootDurationNs() < y.RootDurationNs();
  });

  std::vector<double> roots;
  std::map<std::string, size_t> root_names;
  std::map<std::string, PathAccumulator> paths, op_paths;
  std::vector<double> op_durations;
  // (parent path, position) -> per-trace sums
  std::map<std::pair<std::string, std::string>, std::vector<double>> gaps;
  std::map<std::string, double> critical;
  for (const TraceTree& t : a.trees) {
    roots.push_back(static_cast<double>(t.RootDurationNs()));
    ++root_names[t.RootNode().span->operation];
    for (int i : t.order) {
      const Node& n = t.nodes[static_cast<size_t>(i)];
      PathAccumulator& acc = paths[n.path];
      acc.folded = n.folded;
      acc.operation = n.span->operation;
      acc.depth = n.depth;
      acc.total.push_back(static_cast<double>(n.span->duration_ns));
      acc.self.push_back(static_cast<double>(n.self_ns));
    }
    // Subtrees of the operation's outermost spans, unless the operation is the root itself.
    if (!options.operation.empty() && t.RootNode().span->operation != options.operation) {
      for (int i : t.order) {
        const Node& n = t.nodes[static_cast<size_t>(i)];
        if (n.span->operation != options.operation) continue;
        bool nested = false;
        for (int p = n.parent; p >= 0; p = t.nodes[static_cast<size_t>(p)].parent) {
          if (t.nodes[static_cast<size_t>(p)].span->operation == options.operation) nested = true;
        }
        if (nested) continue;
        op_durations.push_back(static_cast<double>(n.span->duration_ns));
        // The paths below start with the operation ("sql.execute > sql.statement ...").
        const size_t cut = n.path.size() - n.span->operation.size();
        const size_t folded_cut = n.folded.size() - n.span->operation.size();
        std::vector<int> stack = {i};
        while (!stack.empty()) {
          const Node& m = t.nodes[static_cast<size_t>(stack.back())];
          stack.pop_back();
          PathAccumulator& acc = op_paths[m.path.substr(cut)];
          acc.folded = m.folded.substr(folded_cut);
          acc.operation = m.span->operation;
          acc.depth = m.depth - n.depth;
          acc.total.push_back(static_cast<double>(m.span->duration_ns));
          acc.self.push_back(static_cast<double>(m.self_ns));
          for (int c : m.children) stack.push_back(c);
        }
      }
    }
    std::map<std::pair<std::string, std::string>, double> trace_gaps;
    for (const Gap& g : t.gaps) {
      trace_gaps[{t.nodes[static_cast<size_t>(g.parent)].path, g.position}] +=
          static_cast<double>(g.duration_ns);
    }
    for (const auto& [key, sum] : trace_gaps) gaps[key].push_back(sum);
    for (const Section& s : t.critical) {
      critical[t.nodes[static_cast<size_t>(s.node)].span->operation] +=
          static_cast<double>(s.end_ns - s.start_ns);
    }
  }
  a.root = Summarize(roots);
  size_t best = 0;
  for (const auto& [name, count] : root_names) {
    if (count > best) {
      best = count;
      a.root_name = name;
    }
  }
  a.paths = Finish(paths, a.root.mean, a.root.sum);
  if (!op_durations.empty()) {
    Distribution op = Summarize(op_durations);
    a.operation_paths = Finish(op_paths, op.mean, op.sum);
  }
  const double threshold_ns = options.gap_threshold_us * 1000.0;
  for (auto& [key, sums] : gaps) {
    GapStats g;
    g.parent_path = key.first;
    g.position = key.second;
    g.traces = sums.size();
    for (double s : sums) {
      if (s > threshold_ns) ++g.over_threshold;
      g.total_ns += s;
      g.max_ns = std::max(g.max_ns, s);
    }
    g.mean_ns = g.total_ns / static_cast<double>(g.traces);
    a.gaps.push_back(std::move(g));
  }
  std::sort(a.gaps.begin(), a.gaps.end(), [](const GapStats& x, const GapStats& y) {
    if (x.total_ns != y.total_ns) return x.total_ns > y.total_ns;
    return x.parent_path != y.parent_path ? x.parent_path < y.parent_path : x.position < y.position;
  });
  for (const auto& [operation, total] : critical) {
    a.critical.push_back({operation, total, a.root.sum > 0 ? total / a.root.sum : 0});
  }
  std::sort(a.critical.begin(), a.critical.end(),
            [](const CriticalStats& x, const CriticalStats& y) {
              return x.total_ns != y.total_ns ? x.total_ns > y.total_ns : x.operation < y.operation;
            });
  AnalyzeTail(a);
  Warn(a, set, skipped);
  return a;
}

std::vector<DiffRow> DiffPaths(const Analysis& before, const Analysis& after) {
  std::map<std::string, DiffRow> rows;
  for (const PathStats& p : before.paths) {
    DiffRow& r = rows[p.path];
    r.path = p.path;
    r.before_present = true;
    r.count_before = p.total.count;
    r.p50_before = p.total.p50;
    r.p95_before = p.total.p95;
    r.self_p50_before = p.self.p50;
  }
  for (const PathStats& p : after.paths) {
    DiffRow& r = rows[p.path];
    r.path = p.path;
    r.after_present = true;
    r.count_after = p.total.count;
    r.p50_after = p.total.p50;
    r.p95_after = p.total.p95;
    r.self_p50_after = p.self.p50;
  }
  std::vector<DiffRow> out;
  for (auto& [path, row] : rows) out.push_back(std::move(row));
  auto rank = [](const DiffRow& r) {
    return r.before_present && r.after_present ? 0 : (r.after_present ? 1 : 2);
  };
  std::stable_sort(out.begin(), out.end(), [&](const DiffRow& x, const DiffRow& y) {
    if (rank(x) != rank(y)) return rank(x) < rank(y);
    if (rank(x) == 0) {
      const double dx = std::fabs(x.self_p50_after - x.self_p50_before);
      const double dy = std::fabs(y.self_p50_after - y.self_p50_before);
      if (dx != dy) return dx > dy;
    }
    return x.path < y.path;
  });
  return out;
}

}  // namespace kalamdb::cli::traces
