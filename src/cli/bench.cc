#include "cli/bench.h"

#include <iostream>

namespace kalamdb::cli {

int BenchMain(int, char**) {
  std::cerr << "kalam bench: not implemented yet" << std::endl;
  return 2;
}

}  // namespace kalamdb::cli
