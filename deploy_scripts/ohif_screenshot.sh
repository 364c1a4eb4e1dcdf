#!/usr/bin/env bash
# Screenshots of a study in the stack's OHIF (headless Debian chromium driven by playwright-core), optionally with
# its SEG and SR loaded. playwright-core is installed once into $HIPPONODE_CACHE/playwright (npm, about 10 MB, no
# browser download); the browser is /usr/bin/chromium (or $CHROMIUM).
#
# usage: ohif_screenshot.sh --study UID [--base http://127.0.0.1:3000] [--out DIR] [--seg [TEXT]] [--sr [TEXT]]
#                           [--size 1400x900] [--timeout 90] [--settle 3]
#        ohif_screenshot.sh --install-only   (only install playwright-core into the cache)
# Output: DIR/01-viewer.png; 02-seg.png (+ -prompt, -panel, -segment-N: each segment clicked in the panel); 03-sr.png
# (+ 03-sr-measurement-N: each further SR measurement); console.log; summary.json with what each view showed
# (default DIR: /tmp/ohif-screenshots/UID). Exit code 0 when the study and every requested SEG/SR loaded.
set -euo pipefail
# shellcheck source=SCRIPTDIR/stack-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-env.sh"

if [[ $# -eq 0 || "$1" =~ ^(-h|--help)$ ]]; then
  sed -n '2,11p' "$0"
  [[ $# -eq 0 ]] && exit 2
  exit 0
fi
need_tool node nodejs
need_tool npm npm

PLAYWRIGHT_CORE_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"
pw_dir="$HIPPONODE_CACHE/playwright"
export PLAYWRIGHT_CORE_DIR="$pw_dir/node_modules/playwright-core"
# Nothing installed yet is the normal first run: read the version only from a package.json that exists (under
# pipefail a failing sed on a missing file would end the script before it installs anything).
installed=""
if [[ -f "$PLAYWRIGHT_CORE_DIR/package.json" ]]; then
  installed="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PLAYWRIGHT_CORE_DIR/package.json" | head -1)"
fi
if [[ "$installed" != "$PLAYWRIGHT_CORE_VERSION" ]]; then
  say "installing playwright-core@$PLAYWRIGHT_CORE_VERSION into $pw_dir (once; it never downloads a browser)"
  mkdir -p "$pw_dir"
  (cd "$pw_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --no-save \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION" >/dev/null) || die "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION failed"
fi

if [[ "$1" == "--install-only" ]]; then
  say "playwright-core $PLAYWRIGHT_CORE_VERSION is in $pw_dir"
  exit 0
fi
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] || die "no chromium at $CHROMIUM; install it with: apt-get install -y chromium"
exec node "$STACK_REPO/deploy_scripts/ohif/ohif_screenshot.cjs" "$@"
