#!/usr/bin/env bash
# Installs what the tests need, then runs every test: format, lints, unit, store conformance,
# and end-to-end tests that drive the real binary with real kubectl 1.33.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

need_apt=()
for pair in unzip:unzip pip:python3-pip; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair##*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest

scripts/tools.sh
export KUBECTL="$root/.cache/tools/kubectl"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo nextest run --workspace --no-fail-fast "$@"
