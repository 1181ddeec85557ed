#include "cli/traces.h"

#include <iostream>

namespace kalamdb::cli {

int TracesMain(int, char**) {
  std::cerr << "kalam traces: not implemented yet" << std::endl;
  return 2;
}

}  // namespace kalamdb::cli
