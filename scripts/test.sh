#!/usr/bin/env bash
# Installs what the tests need, then runs every test: format, lints, unit, store conformance,
# and end-to-end tests that drive the real binary with real kubectl 1.33.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

need_apt=()
# command:package — the node agent's tests run real containerd, runc and CNI plugins, build a
# busybox image from busybox-static, program Services with nft, build multi-node clusters in
# network namespaces (scripts/cluster-up: ip, nsenter, curl), and the CRI bindings need
# protoc to build
for pair in unzip:unzip pip:python3-pip containerd:containerd runc:runc ctr:containerd \
  protoc:protobuf-compiler /usr/lib/cni/bridge:containernetworking-plugins \
  /bin/busybox:busybox-static ip:iproute2 docker-registry:docker-registry skopeo:skopeo \
  nft:nftables curl:curl nsenter:util-linux; do
  want="${pair%%:*}"
  if [[ "$want" == /* ]]; then
    [ -e "$want" ] || need_apt+=("${pair##*:}")
  else
    command -v "$want" >/dev/null 2>&1 || need_apt+=("${pair##*:}")
  fi
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
