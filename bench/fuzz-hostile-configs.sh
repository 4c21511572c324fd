#!/usr/bin/env bash
# The config parsers on hostile shapes of text, through the fuzz build's harness (release,
# ASan, coverage: what the fuzzer pays per execution). Each input is run REPEAT times in one
# process; the record says how long that took, so a shape that is quadratic (or worse)
# shows as a per-parse cost far above a same-sized file of short lines.
#   bench/fuzz-hostile-configs.sh [FUZZER] [REPEAT]
# FUZZER defaults to the last scripts/fuzz build; pass an older binary to compare.
# TARGETS (environment) narrows the harnesses run, e.g. TARGETS=keepalived-conf.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/record.sh
fuzzer="${1:-$(swift build -c release --scratch-path .build-fuzz --show-bin-path)/tandem-fuzz-libfuzzer}"
repeat="${2:-300}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
shapes = {
    "short-lines": "a\n" * 2048,            # the baseline: 4 KiB of short lines
    "one-line-words": "a " * 2048,          # 4 KiB on one line
    "one-line-braces": "{" * 4096,
    "one-line-accents": "\u00e9 " * 1365,
    "self-definition-x2": "$A=${A}${A}\n${A}\n",
    "self-definition-x4": "$A=${A}${A}${A}${A}\n${A}\n",
    # keepalived's `$` layer on many short lines: each use doubles over up to nine rounds
    # until the line's 1024 bytes; a use that never stops changing; a chain of names.
    "doubling-many-lines": "$A=${A}${A}\n" + "${A}\n" * 500,
    "self-many-lines": "$A=${A}\n" + "${A}\n" * 500,
    "chain-many-uses": "$C0=x\n" + "".join(f"$C{i}=${{C{i-1}}}\n" for i in range(1, 15)) + "${C14} " * 140 + "\n",
}
for name, text in shapes.items():
    open(f"{d}/{name}", "w").write(text)
PY
out="$(results_file fuzz-hostile-configs)"
load="$(cut -d' ' -f1 /proc/loadavg)"
for target in ${TARGETS:-conntrackd-conf keepalived-conf}; do
  for f in "$dir"/*; do
    args=(); for _ in $(seq "$repeat"); do args+=("$f"); done
    start=$(date +%s%N)
    status=0
    FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no timeout 120 nice -n 10 "$fuzzer" -rss_limit_mb=2048 -timeout=20 "${args[@]}" >/dev/null 2>&1 || status=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    result=$([ "$status" = 0 ] && echo ok || echo failed)
    printf '{%s,"fuzzer":"%s","load":%s,"target":"%s","shape":"%s","bytes":%s,"repeat":%s,"ms":%s,"ms_per_parse":%s,"exit":%s,"result":"%s"}\n' \
      "$(results_meta)" "$fuzzer" "$load" "$target" "$(basename "$f")" "$(wc -c <"$f")" "$repeat" "$ms" \
      "$(awk -v a="$ms" -v b="$repeat" 'BEGIN{printf "%.2f", a/b}')" "$status" "$result" | tee -a "$out"
  done
done
echo "raw results: $out" >&2
