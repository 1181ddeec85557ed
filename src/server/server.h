// server.h: all that other subsystems see of src/server/: the process entry point.
//
// Startup: read the config (argv[1], else ./server.toml, else built-in defaults), apply
// KALAMDB_* overrides, validate, open storage, load users, bootstrap root, start HTTP.
// Shutdown on SIGINT/SIGTERM: stop accepting, finish in-flight requests, close storage.
#pragma once

namespace kalamdb::server {

// Runs kalamdb-server; returns the process exit code (0 after a clean shutdown, 1 when the
// configuration is invalid or startup fails, with one "FATAL: ..." line on stderr).
int Main(int argc, char** argv);

}  // namespace kalamdb::server
