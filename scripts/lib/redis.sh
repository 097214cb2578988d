# Shared by scripts/test and scripts/bench: redis-server for private test
# and benchmark instances.

# ensure_redis_server returns when REDIS_URL is set or redis-server is on
# PATH; otherwise it installs Debian's package when running as root with
# apt-get, and else says how to install it and exits.
ensure_redis_server() {
  if [[ -n "${REDIS_URL:-}" ]] || command -v redis-server >/dev/null 2>&1; then
    return
  fi
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "${0##*/}: redis-server not found; installing Debian's redis-server package" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    # The package may start a system service on 6379; tests and benchmarks start their own.
    return
  fi
  echo "${0##*/}: redis-server is required (store tests and benchmarks run against a real Redis)." >&2
  echo "  Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)" >&2
  echo "  or point REDIS_URL at a Redis server the tests may write to (they use their own key namespaces)." >&2
  exit 1
}

