// bench.h: `kalam bench insert`: the insert-throughput workloads of shared/spec/benchmarks.md.
#pragma once

namespace kalamdb::cli {

// Entry point of `kalam bench ...`: argv[0] is "bench". Returns the process exit code.
int BenchMain(int argc, char** argv);

}  // namespace kalamdb::cli
