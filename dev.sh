#!/usr/bin/env bash
# dev.sh: the two commands of the README, on a fresh Debian 12 machine.
#   ./dev.sh start   install what is missing, build (release), start the server on 127.0.0.1:8080
#   ./dev.sh test    install what is missing, build, run every test (release, then ASan+UBSan)
#   ./dev.sh build   install what is missing and build only
set -euo pipefail
cd "$(dirname "$0")"

# Everything the build and tests need, all Debian 12 packages (README: Building by hand).
PACKAGES=(g++ cmake ninja-build make pkgconf ccache git curl
  libboost1.81-dev librocksdb-dev libsimdjson-dev libssl-dev libcrypt-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  libedit-dev libcli11-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc)

install_missing() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "dev.sh: installing ${missing[*]}" >&2
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The OTLP test receiver (tests/otlp-receiver) runs on Node.js with packages from npm.
install_receiver() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    PACKAGES=(nodejs npm)
    install_missing
  fi
  if [[ ! -d tests/otlp-receiver/node_modules ]] ||
     [[ tests/otlp-receiver/package-lock.json -nt tests/otlp-receiver/node_modules ]]; then
    (cd tests/otlp-receiver && npm ci --no-audit --no-fund --loglevel=error)
    touch tests/otlp-receiver/node_modules
  fi
}

build() {
  install_missing
  cmake --preset release >/dev/null
  cmake --build --preset release
}

case "${1:-}" in
  start)
    build
    if [[ -z "${KALAMDB_ROOT_PASSWORD:-}" ]]; then
      echo "dev.sh: KALAMDB_ROOT_PASSWORD is not set. On first start root then has no password;" >&2
      echo "        set one with POST /v1/api/auth/setup (see README), or restart with it set." >&2
    fi
    exec ./build/release/kalamdb-server server.toml
    ;;
  test)
    build
    install_receiver
    ctest --preset release --output-on-failure
    # The same suite once more with AddressSanitizer and UBSan (the server binary too).
    cmake --preset asan >/dev/null
    cmake --build --preset asan
    ASAN_OPTIONS=detect_leaks=1 ctest --preset asan --output-on-failure
    ;;
  build)
    build
    ;;
  *)
    echo "usage: ./dev.sh start|test|build" >&2
    exit 64
    ;;
esac
