#!/usr/bin/env bash
# Stops what start_stack.sh started (node, nginx, Orthanc), found by the pid files under $STACK_DIR/run.
# Each service runs in its own process group, so `dotnet run` and its child stop together. Data and logs stay;
# delete $STACK_DIR for a clean slate. Idempotent: a service that is not running is skipped.
set -euo pipefail
# shellcheck source=SCRIPTDIR/stack-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-env.sh"

[[ "${1:-}" =~ ^(-h|--help)$ ]] && { sed -n '2,4p' "$0"; exit 0; }
[[ -d "$STACK_DIR/run" ]] || { say "nothing to stop (no $STACK_DIR/run)"; exit 0; }

stop_service() {
  local name="$1" pid
  if ! pid="$(service_pid "$name")"; then
    rm -f "$(pid_file "$name")"
    return
  fi
  say "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + ${STOP_TIMEOUT:-30}))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      say "$name did not stop in time; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$(pid_file "$name")"
}

for service in "${STACK_SERVICES[@]}"; do
  stop_service "$service"
done
say "stopped"
