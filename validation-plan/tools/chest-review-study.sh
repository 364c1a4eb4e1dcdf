#!/usr/bin/env bash
# Reproduces the review-band figures of validation-plan/modules/chest-xray.md: the committed chest X-ray model evaluated
# on its validation images (which chose the review margin) and its held-out test images (models/chest-xray/*.csv), then
# on six deliberately faulty copies of the test images (`hipponode evaluate --perturb`), and `hipponode qa-flag` on each
# report (the review band at the default margin, and a sweep of margins). Deterministic (seeded noise); about 20 s per
# evaluation on the 2-core development machine.
#
# usage: validation-plan/tools/chest-review-study.sh [OUT_DIR]     (default /tmp/hipponode-chest-review-study)
#   HIPPONODE_CHEST_DATA  the chest X-ray training folder (default ../shared/data/chest-xray-pneumonia/train)
#   HIPPONODE_CHEST_MODEL the model folder (default models/chest-xray)
set -euo pipefail
cd "$(dirname "$0")/../.."

data=${HIPPONODE_CHEST_DATA:-../shared/data/chest-xray-pneumonia/train}
model=${HIPPONODE_CHEST_MODEL:-models/chest-xray}
out=${1:-/tmp/hipponode-chest-review-study}
kinds=(invert flip-x rotate-90 low-contrast noise crop-left)

if [ ! -d "$data/NORMAL" ]; then
  echo "chest-review-study: no $data/NORMAL (set HIPPONODE_CHEST_DATA)" >&2
  exit 1
fi
mkdir -p "$out"
dotnet build -c Release src/HippoNode >/dev/null
hn() { dotnet run -c Release --no-build --project src/HippoNode -- "$@"; }

for part in validation test; do
  hn evaluate --model "$model" --images "$data" --labels "$model/$part.csv" --json "$out/eval-$part.json" | tail -n 1
done
for kind in "${kinds[@]}"; do
  hn evaluate --model "$model" --images "$data" --labels "$model/test.csv" --perturb "$kind" --json "$out/eval-$kind.json" | tail -n 1
done

for part in validation test "${kinds[@]}"; do
  echo
  echo "== $part =="
  hn qa-flag --evaluation "$out/eval-$part.json" --worst 5 --json "$out/review-$part.json"
done
