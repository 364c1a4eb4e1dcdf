#!/usr/bin/env bash
# Reproduces the quality-flag figures of validation-plan/hippocampus.md: the committed ensemble evaluated on the 34
# held-out test cases of models/hippocampus/split.json, then on six deliberately faulty copies of them (the stress
# set, `hipponode dataset perturb`), then `hipponode qa-flag` over the reports. Deterministic (fixed seed); about
# 1 minute per evaluation on the 2-core development machine.
#
# usage: validation-plan/tools/qa-flag-study.sh [OUT_DIR]     (default /tmp/hipponode-qa-flag-study)
#   HIPPONODE_DATA  the MSD hippocampus folder (default ../shared/data/hippocampus)
#   HIPPONODE_MODEL the model folder (default models/hippocampus)
set -euo pipefail
cd "$(dirname "$0")/../.."

data=${HIPPONODE_DATA:-../shared/data/hippocampus}
model=${HIPPONODE_MODEL:-models/hippocampus}
out=${1:-/tmp/hipponode-qa-flag-study}
kinds=(swap-xz flip-y invert noise thick-slices crop-x)

if [ ! -d "$data/imagesTr" ]; then
  echo "qa-flag-study: no $data/imagesTr (set HIPPONODE_DATA)" >&2
  exit 1
fi
mkdir -p "$out"
dotnet build -c Release src/HippoNode >/dev/null
hn() { dotnet run -c Release --no-build --project src/HippoNode -- "$@"; }

hn evaluate --images "$data/imagesTr" --labels "$data/labelsTr" --cases models/hippocampus/split.json \
  --model "$model" --json "$out/eval-test.json" | tail -n 1
reports=(--evaluation "$out/eval-test.json")
for kind in "${kinds[@]}"; do
  hn dataset perturb "$data" --kind "$kind" --cases models/hippocampus/split.json --out "$out/$kind"
  hn evaluate --images "$out/$kind/imagesTr" --labels "$out/$kind/labelsTr" --model "$model" \
    --json "$out/eval-$kind.json" | tail -n 1
  reports+=(--evaluation "$out/eval-$kind.json")
done

echo
echo "== the test split alone (threshold 0.8, worst 5) =="
hn qa-flag --evaluation "$out/eval-test.json" --threshold 0.8 --worst 5 --json "$out/qa-flag-test.json"
echo
echo "== test split and stress set (failure: whole Dice below 0.7) =="
hn qa-flag "${reports[@]}" --threshold 0.8 --worst 10 --fail-below 0.7 --json "$out/qa-flag-stress.json"
