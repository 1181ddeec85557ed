// traces.h: `kalam traces`: the trace analyzer (waterfall, gaps, per-path statistics, diff).
//
// Reads traces in the shape of Jaeger's query API (`{"data":[trace...]}`) from the server's own
// store (/v1/api/traces, with exact nanoseconds when asked for precision=ns), from a Jaeger
// query service (/api/traces, whole microseconds) or from a file saved by --save, and reports:
//   - waterfalls (offset, duration, self time, bar, attributes and events per span);
//   - unaccounted gaps inside spans (leading, between children, trailing), summed per trace
//     and aggregated per (parent path, position);
//   - per-path latency statistics (path = span names from the root joined with " > ");
//   - the critical path and each operation's time on it;
//   - the slowest k% of traces against the rest (self time and attributes);
//   - data-quality warnings (orphans, out-of-bounds children, zero durations, duplicate ids,
//     truncated results, error spans).
// Self time is a span's duration minus the union of its children's intervals clipped to the
// span, so overlapping children are not counted twice (a span that overflows its parent is
// first trimmed to it). Percentiles interpolate linearly
// between the closest ranks (numpy's default): p of sorted x[0..n-1] is at rank (n-1)*p.
//
// Times are kept in integer nanoseconds (microsecond sources are scaled by 1000) and printed
// in microseconds. The library functions are pure and thread-compatible; TracesMain does I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalamdb::cli {

// Entry point of `kalam traces ...`: argv[0] is "traces". Returns the process exit code.
int TracesMain(int argc, char** argv);

namespace traces {

// ---------------------------------------------------------------------------------------------
// Input model

struct KeyValue {
  std::string key;
  std::string value;  // strings as they are; numbers and booleans as their JSON text
  bool is_number = false;
  double number = 0;  // when is_number
};

struct SpanLog {
  int64_t time_ns = 0;  // Unix nanoseconds (timestampUnixNano, else timestamp * 1000)
  std::vector<KeyValue> fields;
};

struct Span {
  std::string span_id;        // lower-case, left-padded to 16 hex digits
  std::string parent_id;      // the first CHILD_OF reference (else the first reference); "" = none
  bool follows_from = false;  // the parent reference is FOLLOWS_FROM
  std::string operation;
  int64_t start_ns = 0;  // Unix nanoseconds
  int64_t duration_ns = 0;
  bool exact = false;  // startTimeUnixNano and durationNanos were present
  bool error = false;  // tag error=true or otel.status_code=ERROR
  std::vector<KeyValue> tags;
  std::vector<SpanLog> logs;
  int64_t end_ns() const { return start_ns + duration_ns; }
};

struct Trace {
  std::string trace_id;  // lower-case, left-padded to 32 hex digits
  std::vector<Span> spans;
};

struct TraceSet {
  std::vector<Trace> traces;
  // The "data" array exactly as read (minified), for --save.
  std::string data_json = "[]";
  // How many traces were asked for (0: unknown). fetched == limit means "maybe truncated".
  int64_t limit = 0;
  size_t SpanCount() const;
};

// Parses an answer of Jaeger's query API: {"data":[trace...], "limit": n, ...}; also a bare
// array of traces or a single trace object. Errors: kInvalidArgument (not JSON, wrong shape,
// or an envelope holding only "errors").
Result<TraceSet> ParseJaeger(std::string_view json);
// A Jaeger envelope holding the traces as read and the limit: {"data":[...],"total":n,
// "limit":n,"offset":0,"errors":null}. ParseJaeger(SaveJaeger(s)) reproduces s.
std::string SaveJaeger(const TraceSet& set);
// Lower-cases a hex id and left-pads it with zeros to `width` digits.
std::string NormalizeId(std::string_view id, size_t width);

// ---------------------------------------------------------------------------------------------
// One trace as a tree

struct Node {
  const Span* span = nullptr;
  int parent = -1;              // index in TraceTree::nodes; -1 for a top-level span
  bool missing_parent = false;  // parent_id names no span of the trace
  std::vector<int> children;    // ordered by start time
  int depth = 0;
  std::string path;     // operation names from the top-level span, joined with " > "
  std::string folded;   // the same joined with ';' (';' in names becomes ':')
  int64_t self_ns = 0;  // within the parent: a span that overflows it is trimmed
};

// Time inside a span that none of its children covers.
struct Gap {
  int parent = -1;       // node index
  std::string position;  // "start → a", "a → b", "b → end" (child operation names)
  int64_t start_ns = 0;
  int64_t duration_ns = 0;
  int after_child = -1;  // index into the parent's children it follows; -1 = leading
};

// A piece of the critical path: [start_ns, end_ns) is spent in `node` itself.
struct Section {
  int node = -1;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

struct TraceTree {
  const Trace* trace = nullptr;
  std::vector<Node> nodes;
  std::vector<int> order;  // depth-first tree order: the root's tree, then other top-level spans
  int root = -1;
  std::vector<Gap> gaps;          // every positive gap, in tree order
  std::vector<Section> critical;  // forward in time; sums to the root's duration
  // Data quality.
  int duplicate_ids = 0;     // spans whose id was seen before in the trace
  int copies_dropped = 0;    // of those, exact copies (ignored)
  int extra_roots = 0;       // top-level spans without a parent besides the root
  int cycles = 0;            // parent links cut because they formed a loop
  std::vector<int> orphans;  // top-level spans (not the root) whose parent is missing
  std::vector<std::pair<int, int64_t>> out_of_bounds;  // child node, ns outside its parent
  bool exact = true;                                   // every span had nanosecond fields

  const Node& RootNode() const { return nodes[static_cast<size_t>(root)]; }
  int64_t RootDurationNs() const { return RootNode().span->duration_ns; }
};

// REQUIRES: trace has at least one span. The tree points into `trace`.
TraceTree BuildTree(const Trace& trace);

// ---------------------------------------------------------------------------------------------
// Analysis over many traces

struct Options {
  std::string operation = "sql.execute";  // a trace matches when it has a span of this name
  double gap_threshold_us = 5;            // gaps above this are listed
  double slow_percent = 10;               // the slowest k% against the rest
  int extra_waterfalls = 0;               // waterfalls beyond the slowest and the median trace
};

// Linear interpolation between closest ranks; `sorted` ascending, p in [0, 1]; 0 when empty.
double Percentile(const std::vector<double>& sorted, double p);

struct Distribution {  // nanoseconds
  size_t count = 0;
  double mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0, sum = 0;
};
Distribution Summarize(std::vector<double> values);

struct PathStats {
  std::string path;
  std::string folded;
  std::string operation;  // the last name of the path
  int depth = 0;
  Distribution total;
  Distribution self;
  double share_of_root = 0;       // mean duration / mean duration of the root (or operation)
  double self_share_of_root = 0;  // total self time / total root (or operation) time
};

struct GapStats {  // over traces: each trace's gaps at one (parent path, position), summed
  std::string parent_path;
  std::string position;
  size_t traces = 0;          // traces where the gap occurs
  size_t over_threshold = 0;  // of those, traces where it exceeds the threshold
  double mean_ns = 0, max_ns = 0, total_ns = 0;
};

struct CriticalStats {
  std::string operation;
  double total_ns = 0;  // summed over traces
  double share = 0;     // of the summed root durations
};

struct TailPath {  // self time of one path per trace (0 where absent), mean per group
  std::string path;
  double slow_ns = 0, rest_ns = 0;
};

struct TailAttribute {
  std::string name;   // "<operation> <key>"
  std::string value;  // categorical: the value; numeric: ""
  bool numeric = false;
  double slow = 0, rest = 0;  // categorical: share of traces with the value; numeric: mean
};

struct Analysis {
  Options options;
  size_t fetched = 0;            // traces read
  size_t spans = 0;              // spans in matching traces, as read
  bool exact = true;             // every matching span had nanosecond fields
  std::vector<TraceTree> trees;  // the matching traces, by root duration ascending
  std::string root_name;         // operation of the (most common) root span
  Distribution root;
  std::vector<PathStats> paths;            // from the root, by total self time descending
  std::vector<PathStats> operation_paths;  // from each options.operation span (if not the root)
  std::vector<GapStats> gaps;              // by total time descending
  std::vector<CriticalStats> critical;     // by total time descending
  // The slowest options.slow_percent of traces (at least one) against the others.
  size_t slow_count = 0;
  double slow_from_ns = 0;                // root duration of the fastest slow trace
  double slow_spans = 0, rest_spans = 0;  // spans per trace
  double slow_root_p50 = 0, rest_root_p50 = 0;
  std::vector<TailPath> tail_paths;  // self time that grew, largest growth first
  std::vector<TailAttribute> tail_attributes;
  std::vector<std::string> warnings;

  // The trace analysed: at least one matching trace.
  bool empty() const { return trees.empty(); }
  const PathStats* FindPath(std::string_view path) const;
};

// The analysis points into `set`, which must outlive it.
Analysis Analyze(const TraceSet& set, const Options& options);

// The default report: waterfalls, gaps, paths, critical path, tail, warnings, two headlines.
std::string RenderHuman(const Analysis& analysis);
// The two closing lines ("span with most self time: ...", "largest unaccounted gap: ...").
std::string Headlines(const Analysis& analysis);
// {"traces":n,"operation":..,"precision":..,"root":{..},"paths":[..],"operation_paths":[..],
//  "gaps":[..],"critical_path":[..],"tail":{..},"warnings":[..]}; times in µs, 3 decimals.
std::string RenderJson(const Analysis& analysis);
// Flame-graph folded stacks: "root;child;leaf <self µs summed over traces, rounded>" per path.
std::string RenderFolded(const Analysis& analysis);

// ---------------------------------------------------------------------------------------------
// Comparing two runs

struct DiffRow {
  std::string path;
  bool before_present = false, after_present = false;
  size_t count_before = 0, count_after = 0;
  double p50_before = 0, p50_after = 0;  // ns
  double p95_before = 0, p95_after = 0;
  double self_p50_before = 0, self_p50_after = 0;
};
// Every path of either run: the largest change of self p50 first, then added, then removed.
std::vector<DiffRow> DiffPaths(const Analysis& before, const Analysis& after);
std::string RenderDiff(const Analysis& before, const Analysis& after);
// {"before":{"traces":n,"root_p50_us":..},"after":{..},"paths":[{"path","status",...}]}
std::string RenderDiffJson(const Analysis& before, const Analysis& after);

}  // namespace traces
}  // namespace kalamdb::cli
