#!/usr/bin/env bash
# Runs each fuzz target (or those named) for SECONDS (default 600) with libFuzzer:
#   bash fuzz/run.sh [SECONDS] [TARGET...]
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). New inputs
# go to fuzz/corpus/TARGET (not committed), starting from fuzz/seeds/TARGET; a
# crash is written to fuzz/artifacts/TARGET and the run exits non-zero.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(envelope command settings)
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "fuzzing $target for ${seconds}s"
    cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1
done
