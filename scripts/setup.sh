#!/usr/bin/env bash
# One-time setup on a fresh machine (Debian 12): system packages, then the pinned npm deps.
# Idempotent; safe to re-run. Needs root (or sudo) only for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # notebooks: Debian's Jupyter runs the committed tslab kernel spec
  jupyter-notebook python3-nbconvert jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client
  # figures: plotly in headless Chromium, with a pinned font
  chromium fonts-dejavu-core
  # optional native BLAS kernels
  libopenblas-dev
  # the Python reward-service clients in examples/ (their test)
  python3-requests
)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node (via @huggingface/transformers) must not try to download binaries.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Optional native OpenBLAS kernels (falls back to wasm, with one line, when they cannot be built).
node scripts/build-native.mjs
