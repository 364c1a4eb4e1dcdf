# shellcheck shell=bash
# Shared settings and helpers of the stack scripts; sourced, not run. Every setting is an environment variable
# with the default the README documents (the same ports and AE titles as docker-compose.yml).

STACK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$STACK_REPO/.stack}"
# Absolute, because nginx's configuration and the pid files name it and start_stack.sh changes directory.
[[ "$STACK_DIR" == /* ]] || STACK_DIR="$PWD/$STACK_DIR"
STACK_BIND="${STACK_BIND:-127.0.0.1}"

ORTHANC_AET="${ORTHANC_AET:-ORTHANC}"
ORTHANC_DICOM_PORT="${ORTHANC_DICOM_PORT:-4242}"
ORTHANC_HTTP_PORT="${ORTHANC_HTTP_PORT:-8042}"
ORTHANC_STABLE_AGE="${ORTHANC_STABLE_AGE:-30}"
ORTHANC_PLUGINS_DIR="${ORTHANC_PLUGINS_DIR:-/usr/share/orthanc/plugins}"
ORTHANC_BIN="${ORTHANC_BIN:-$(command -v Orthanc || echo /usr/sbin/Orthanc)}"

OHIF_PORT="${OHIF_PORT:-3000}"
OHIF_VERSION="${OHIF_VERSION:-3.13.2}"
HIPPONODE_CACHE="${HIPPONODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hipponode}"
OHIF_DIST="${OHIF_DIST:-$HIPPONODE_CACHE/ohif/$OHIF_VERSION/package/dist}"

HIPPONODE_AET="${HIPPONODE_AET:-HIPPONODE}"
HIPPONODE_PORT="${HIPPONODE_PORT:-11112}"
HIPPONODE_HTTP_URL="${HIPPONODE_HTTP_URL:-http://127.0.0.1:8080}"
# The node command line without the verb; "serve" is appended. Default: dotnet run from this checkout.
HIPPONODE_CMD="${HIPPONODE_CMD:-dotnet run -c Release --project $STACK_REPO/src/HippoNode --}"

# Stop order: the node first (it may be sending to Orthanc), Orthanc last.
# shellcheck disable=SC2034 # used by stop_stack.sh
STACK_SERVICES=(node nginx orthanc)

say() { printf '%s\n' "stack: $*"; }
die() { printf '%s\n' "stack: error: $*" >&2; exit 1; }

need_tool() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found; install it with: apt-get install -y $2"
}

pid_file() { printf '%s/run/%s.pid' "$STACK_DIR" "$1"; }

# The pid of a service this stack started, when that process is still alive.
service_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s' "$pid"
}

port_busy() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Waits until a command succeeds, up to a number of seconds, failing early when the service's process died.
wait_until() {
  local what="$1" service="$2" seconds="$3"
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! service_pid "$service" >/dev/null; then
      die "$what exited during start; see $STACK_DIR/logs/$service.log"
    fi
    if ((SECONDS >= deadline)); then
      die "$what not ready after ${seconds}s; see $STACK_DIR/logs/$service.log"
    fi
    sleep 0.5
  done
}

# Starts a command in its own session (so stop can end its whole process group), output to logs/NAME.log.
start_service() {
  local name="$1"
  shift
  mkdir -p "$STACK_DIR/run" "$STACK_DIR/logs"
  setsid "$@" >>"$STACK_DIR/logs/$name.log" 2>&1 </dev/null &
  printf '%s' "$!" >"$(pid_file "$name")"
}
