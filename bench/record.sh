# Sourced by the benches that keep raw per-run results (from the repository's root).
# results_file NAME: a new JSON-lines file under bench/results/ named for the bench, the time
# and the commit. results_meta: the fields every record starts with (what was measured):
# tandem_build says which binary ran, scripts/build-release's from this commit unless the
# bench was handed another through TANDEM.
# summary_range: numbers on stdin → "median (min-max)"; anything not a number (a "-" for a
# figure a run did not have) is left out rather than read as 0.
results_file() {
  mkdir -p bench/results
  echo "bench/results/$1-$(date -u +%Y%m%dT%H%M%SZ)-$(git rev-parse --short HEAD 2>/dev/null || echo unknown).jsonl"
}
results_meta() {
  local dirty=true
  [ -z "$(git status --porcelain -uno 2>/dev/null)" ] && dirty=false
  printf '"commit":"%s","dirty":%s,"date":"%s","kernel":"%s","cores":%s,"tandem_build":"%s"' \
    "$(git rev-parse HEAD 2>/dev/null || echo unknown)" "$dirty" "$(date -u +%FT%TZ)" "$(uname -r)" "$(nproc)" \
    "${TANDEM:-scripts/build-release}"
}
summary_range() { awk '$1 ~ /^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/' | sort -g | awk '{v[NR]=$1} END {if (NR) printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR]; else print "-"}'; }
