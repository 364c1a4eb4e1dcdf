#!/usr/bin/env bash
# Starts the clinical stack on a machine without Docker: Orthanc (Debian package, our orthanc/ config and Lua
# router), OHIF 3.13 (npm package) behind nginx, and the HippoNode node, all on 127.0.0.1.
# State (pids, logs, Orthanc storage, node storage) lives under $STACK_DIR (default: <repo>/.stack).
# Idempotent: a service that is already running is left as it is. stop_stack.sh stops what this started.
#
# usage: start_stack.sh [--no-node] [--no-ohif] [--fetch-ohif (only download OHIF into the cache, start nothing)]
# Settings (environment): STACK_DIR, ORTHANC_DICOM_PORT (4242), ORTHANC_HTTP_PORT (8042), ORTHANC_AET (ORTHANC),
# ORTHANC_STABLE_AGE (30), OHIF_PORT (3000), OHIF_VERSION (3.13.2), OHIF_DIST (a built OHIF dist/ to use instead of
# the npm package), HIPPONODE_CACHE (~/.cache/hipponode), HIPPONODE_AET (HIPPONODE), HIPPONODE_PORT (11112),
# HIPPONODE_HTTP_URL (http://127.0.0.1:8080), HIPPONODE_CMD (node command without the verb; default
# "dotnet run -c Release --project src/HippoNode --"), NODE_START_TIMEOUT (seconds, 600: the first run builds).
set -euo pipefail
# shellcheck source=SCRIPTDIR/stack-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-env.sh"

with_node=1
with_ohif=1
fetch_only=0
for arg in "$@"; do
  case "$arg" in
    --no-node) with_node=0 ;;
    --no-ohif) with_ohif=0 ;;
    --fetch-ohif) fetch_only=1 ;;
    -h | --help)
      sed -n '2,14p' "$0"
      exit 0
      ;;
    *) die "unknown option '$arg' (try --help)" ;;
  esac
done

# The node resolves relative configuration paths (models/, rules) from the repository root.
cd "$STACK_REPO"
mkdir -p "$STACK_DIR"/{run,logs,orthanc/db,node,nginx}
# The run folder is not part of the repository, whatever the repository's .gitignore says.
[[ -f "$STACK_DIR/.gitignore" ]] || printf '*\n' >"$STACK_DIR/.gitignore"

need_tool echoscu dcmtk
need_tool curl curl
[[ -x "$ORTHANC_BIN" ]] || die "Orthanc not found at $ORTHANC_BIN; install it with: apt-get install -y orthanc orthanc-dicomweb"
[[ -f "$ORTHANC_PLUGINS_DIR/libOrthancDicomWeb.so" ]] ||
  die "the DICOMweb plugin is missing ($ORTHANC_PLUGINS_DIR/libOrthancDicomWeb.so); install it with: apt-get install -y orthanc-dicomweb"

# A port that answers but is not ours means another program holds it: say so instead of failing obscurely later.
check_port_free() {
  local service="$1" port="$2"
  if ! service_pid "$service" >/dev/null && port_busy "$STACK_BIND" "$port"; then
    die "port $port ($service) is already in use by another program; set the matching *_PORT variable"
  fi
}

start_orthanc() {
  if pid="$(service_pid orthanc)"; then
    say "orthanc already running (pid $pid)"
    return
  fi
  check_port_free orthanc "$ORTHANC_HTTP_PORT"
  check_port_free orthanc "$ORTHANC_DICOM_PORT"
  say "starting Orthanc: DICOM $ORTHANC_AET@$STACK_BIND:$ORTHANC_DICOM_PORT, HTTP http://$STACK_BIND:$ORTHANC_HTTP_PORT/"
  ORTHANC_STORAGE="$STACK_DIR/orthanc/db" ORTHANC_HTTP_PORT="$ORTHANC_HTTP_PORT" ORTHANC_DICOM_PORT="$ORTHANC_DICOM_PORT" \
    ORTHANC_AET="$ORTHANC_AET" ORTHANC_STABLE_AGE="$ORTHANC_STABLE_AGE" ORTHANC_PLUGINS_DIR="$ORTHANC_PLUGINS_DIR" \
    HIPPONODE_AET="$HIPPONODE_AET" HIPPONODE_HOST=127.0.0.1 HIPPONODE_PORT="$HIPPONODE_PORT" ORTHANC_REMOTE_ACCESS=false \
    start_service orthanc "$ORTHANC_BIN" "$STACK_REPO/orthanc/orthanc.json"
  wait_until "Orthanc HTTP" orthanc 60 curl -fsS "http://127.0.0.1:$ORTHANC_HTTP_PORT/system"
  wait_until "Orthanc DICOM" orthanc 30 echoscu -to 5 -aec "$ORTHANC_AET" 127.0.0.1 "$ORTHANC_DICOM_PORT"
  curl -fsS "http://127.0.0.1:$ORTHANC_HTTP_PORT/dicom-web/studies" >/dev/null ||
    die "Orthanc is up but DICOMweb does not answer at /dicom-web/; see $STACK_DIR/logs/orthanc.log"
}

# Unpacks the OHIF npm package into the cache once; later starts reuse it.
ensure_ohif() {
  if [[ -f "$OHIF_DIST/index.html" ]]; then
    return
  fi
  need_tool npm npm
  local dir="$HIPPONODE_CACHE/ohif"
  local tarball="$dir/ohif-app-$OHIF_VERSION.tgz"
  mkdir -p "$dir"
  if [[ ! -f "$tarball" ]]; then
    say "downloading @ohif/app@$OHIF_VERSION with npm pack (about 50 MB, once) into $dir"
    (cd "$dir" && npm pack --silent "@ohif/app@$OHIF_VERSION" >/dev/null) || die "npm pack @ohif/app@$OHIF_VERSION failed"
  fi
  rm -rf "$dir/$OHIF_VERSION.tmp"
  mkdir -p "$dir/$OHIF_VERSION.tmp"
  tar -xzf "$tarball" -C "$dir/$OHIF_VERSION.tmp" || die "could not unpack $tarball"
  rm -rf "${dir:?}/${OHIF_VERSION:?}"
  mv "$dir/$OHIF_VERSION.tmp" "$dir/$OHIF_VERSION"
  [[ -f "$OHIF_DIST/index.html" ]] || die "no index.html in $OHIF_DIST after unpacking"
}

start_nginx() {
  if pid="$(service_pid nginx)"; then
    say "nginx (OHIF) already running (pid $pid)"
    return
  fi
  need_tool nginx nginx-light
  ensure_ohif
  check_port_free nginx "$OHIF_PORT"
  local user_directive=""
  # Workers would otherwise run as nobody and could not read a cache under /root.
  if [[ "$(id -u)" -eq 0 ]]; then user_directive="user root root;"; fi
  mkdir -p "$STACK_DIR/ohif"
  cp "$STACK_REPO/deploy_scripts/ohif/app-config.js" "$STACK_DIR/ohif/app-config.js"
  sed -e "s|@USER_DIRECTIVE@|$user_directive|" -e "s|@STACK_DIR@|$STACK_DIR|g" -e "s|@BIND@|$STACK_BIND|g" \
    -e "s|@OHIF_PORT@|$OHIF_PORT|g" -e "s|@OHIF_DIST@|$OHIF_DIST|g" -e "s|@APP_CONFIG@|$STACK_DIR/ohif/app-config.js|g" \
    -e "s|@ORTHANC_HTTP_PORT@|$ORTHANC_HTTP_PORT|g" \
    "$STACK_REPO/deploy_scripts/ohif/nginx.conf.template" >"$STACK_DIR/nginx/nginx.conf"
  nginx -t -q -p "$STACK_DIR/nginx" -c "$STACK_DIR/nginx/nginx.conf" 2>"$STACK_DIR/logs/nginx-test.log" ||
    die "nginx rejects $STACK_DIR/nginx/nginx.conf: $(cat "$STACK_DIR/logs/nginx-test.log")"
  say "starting OHIF $OHIF_VERSION behind nginx: http://$STACK_BIND:$OHIF_PORT/"
  start_service nginx nginx -p "$STACK_DIR/nginx" -c "$STACK_DIR/nginx/nginx.conf" -g 'daemon off;'
  wait_until "nginx" nginx 30 curl -fsS "http://$STACK_BIND:$OHIF_PORT/app-config.js"
  curl -fsS "http://$STACK_BIND:$OHIF_PORT/dicom-web/studies" >/dev/null ||
    die "nginx answers but the /dicom-web/ proxy to Orthanc does not; see $STACK_DIR/logs/nginx-error.log"
}

start_node() {
  if pid="$(service_pid node)"; then
    say "node already running (pid $pid)"
    return
  fi
  check_port_free node "$HIPPONODE_PORT"
  say "starting HippoNode: $HIPPONODE_AET@127.0.0.1:$HIPPONODE_PORT (log: $STACK_DIR/logs/node.log)"
  # The node reads its "HippoNode" configuration section from these standard .NET environment variables.
  local -a cmd
  read -r -a cmd <<<"$HIPPONODE_CMD"
  HippoNode__AeTitle="$HIPPONODE_AET" HippoNode__Port="$HIPPONODE_PORT" HippoNode__AllowedCallers__0="$ORTHANC_AET" \
    HippoNode__Pacs__AeTitle="$ORTHANC_AET" HippoNode__Pacs__Host=127.0.0.1 HippoNode__Pacs__Port="$ORTHANC_DICOM_PORT" \
    HippoNode__StorageFolder="$STACK_DIR/node" HippoNode__Http__Url="$HIPPONODE_HTTP_URL" \
    start_service node "${cmd[@]}" serve
  wait_until "HippoNode" node "${NODE_START_TIMEOUT:-600}" echoscu -to 5 -aet "$ORTHANC_AET" -aec "$HIPPONODE_AET" 127.0.0.1 "$HIPPONODE_PORT"
}

if ((fetch_only)); then
  ensure_ohif
  say "OHIF $OHIF_VERSION is in $OHIF_DIST"
  exit 0
fi
start_orthanc
if ((with_ohif)); then start_nginx; fi
if ((with_node)); then start_node; fi

say "ready. Orthanc: http://127.0.0.1:$ORTHANC_HTTP_PORT/app/explorer.html  DICOM: $ORTHANC_AET@127.0.0.1:$ORTHANC_DICOM_PORT"
if ((with_ohif)); then say "OHIF: http://$STACK_BIND:$OHIF_PORT/"; fi
if ((with_node)); then say "node: $HIPPONODE_AET@127.0.0.1:$HIPPONODE_PORT"; fi
say "send a study: deploy_scripts/send_volume.sh DIR; stop: deploy_scripts/stop_stack.sh"
