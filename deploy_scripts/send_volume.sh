#!/usr/bin/env bash
# Sends study folders (series sub-folders included) to the stack's Orthanc with DCMTK storescu, the way a scanner
# would. Orthanc's router forwards the HippoCrop series to the node once the study is stable (ORTHANC_STABLE_AGE).
#
# usage: send_volume.sh DIR [DIR...]
# Settings (environment): ORTHANC_HOST (127.0.0.1), ORTHANC_DICOM_PORT (4242), ORTHANC_AET (ORTHANC),
# SEND_AET (calling AE title, STORESCU).
set -euo pipefail
# shellcheck source=SCRIPTDIR/stack-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-env.sh"

if [[ $# -eq 0 || "$1" =~ ^(-h|--help)$ ]]; then
  sed -n '2,7p' "$0"
  [[ $# -eq 0 ]] && exit 2
  exit 0
fi
need_tool storescu dcmtk
host="${ORTHANC_HOST:-127.0.0.1}"

for dir in "$@"; do
  [[ -e "$dir" ]] || die "$dir does not exist"
  count="$(find "$dir" -type f | wc -l)"
  say "sending $dir ($count files) to $ORTHANC_AET@$host:$ORTHANC_DICOM_PORT"
  # +sd/+r: scan folders recursively; -nh: skip files that are not DICOM; -R: propose exactly the SOP classes
  # of the files (the default list lacks SEG and would drop those files).
  storescu -aet "${SEND_AET:-STORESCU}" -aec "$ORTHANC_AET" +sd +r -nh -R "$host" "$ORTHANC_DICOM_PORT" "$dir" ||
    die "storescu failed for $dir (is the stack running? deploy_scripts/start_stack.sh)"
done
say "sent; Orthanc routes HippoCrop series to the node once a study is stable (StableAge seconds after its last instance)"
