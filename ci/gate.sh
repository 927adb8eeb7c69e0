#!/usr/bin/env bash
# slogate's CI gate: ONE step that judges a finished run against its SLOs and against the
# last passing release, records it in the run history, and writes the Markdown summary.
#
#   ci/gate.sh RUN_DIR [--history DIR] [--slo FILE] [--no-record] [-- COMPARE_FLAGS...]
#
#   RUN_DIR        the run record `slogate run --out RUN_DIR --release LABEL` wrote
#   --history DIR  run history kept between pipelines (cache/artifact); default .slogate-history
#   --slo FILE     SLO file for `slogate evaluate` (default: the run's own, else the catalog's)
#   --no-record    judge only; do not add this run to the history (e.g. for pull requests)
#   after --       extra flags for `slogate compare`, e.g. -- --p95-tolerance 5% --allow-different
#
# Steps: 1. slogate evaluate (SLO gate, writes verdict.json); 2. slogate report, when that
# command exists (report.html/md, junit.xml; not part of the gate); 3. slogate compare
# against the history's latest passing run (regression gate, writes comparison.*; the
# first run has no baseline and passes this step) and --record: the run enters the
# history marked passing or failing, so the next pipeline's baseline is the last
# *passing* one; 4. append report.md and comparison.md to $GITHUB_STEP_SUMMARY if set.
#
# Exit code, the most serious of the steps: 2 (bad flags, bad SLO file, runs not
# comparable) > 3 (run unusable: aborted, no samples) > 1 (SLO failed or regression) > 0.
set -uo pipefail

usage() { sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
run_dir=$1; shift
history=.slogate-history
slo=()
record=1
while [ $# -gt 0 ]; do
  case $1 in
    --history) [ $# -ge 2 ] || usage; history=$2; shift 2 ;;
    --slo) [ $# -ge 2 ] || usage; slo=(--slo "$2"); shift 2 ;;
    --no-record) record=0; shift ;;
    --) shift; break ;;
    *) echo "gate.sh: unknown option $1" >&2; usage ;;
  esac
done
slogate=${GATE_SLOGATE:-slogate}
[ -d "$run_dir" ] || { echo "gate.sh: $run_dir is not a run directory" >&2; exit 3; }

worst() {  # the more serious of two exit codes: 2 > 3 > 1 > 0
  local rank_a rank_b
  rank() { case $1 in 0) echo 0 ;; 1) echo 1 ;; 3) echo 2 ;; *) echo 3 ;; esac; }
  rank_a=$(rank "$1"); rank_b=$(rank "$2")
  if [ "$rank_a" -ge "$rank_b" ]; then echo "$1"; else echo "$2"; fi
}

echo "== slogate evaluate $run_dir"
$slogate evaluate "$run_dir" "${slo[@]}"; slo_code=$?

compare_code=0
if [ "$slo_code" -le 1 ]; then
  echo "== slogate report $run_dir"
  $slogate report "$run_dir" 2>&1 || echo "gate.sh: no single-run report (the gate does not depend on it)"
  echo "== slogate compare --history $history --baseline latest-passing $run_dir"
  record_flags=()
  [ "$record" = 1 ] && record_flags=(--record "$run_dir")
  $slogate compare --history "$history" --baseline latest-passing --no-baseline ok \
    "${record_flags[@]}" "$@" "$run_dir"
  compare_code=$?
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  for md in "$run_dir/report.md" "$run_dir/comparison.md"; do
    if [ -f "$md" ]; then cat "$md" >> "$GITHUB_STEP_SUMMARY"; echo >> "$GITHUB_STEP_SUMMARY"; fi
  done
fi

code=$(worst "$slo_code" "$compare_code")
echo "== gate: SLO exit $slo_code, comparison exit $compare_code -> exit $code"
exit "$code"
