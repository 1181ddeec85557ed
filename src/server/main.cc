// kalamdb-server: see server/server.h.
#include "server/server.h"

int main(int argc, char** argv) { return kalamdb::server::Main(argc, argv); }
