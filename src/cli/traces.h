// traces.h: `kalam traces`: the trace analyzer (waterfall, gaps, per-path statistics, diff).
#pragma once

namespace kalamdb::cli {

// Entry point of `kalam traces ...`: argv[0] is "traces". Returns the process exit code.
int TracesMain(int argc, char** argv);

}  // namespace kalamdb::cli
