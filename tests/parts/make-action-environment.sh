#!/usr/bin/env bash
# The GitHub Action's environment, as its install step leaves it, made with uv from a checkout.
# Usage: make-action-environment.sh UV PYTHON ENVIRONMENT CHECKOUT
set -euo pipefail
uv=$1 python=$2 environment=$3 checkout=$4
"$uv" venv --quiet --python "$python" "$environment"
# --refresh-package: uv would otherwise reuse a wheel built from an older state of the checkout
"$uv" pip install --quiet --refresh-package deploy-gate --python "$environment/bin/python" "$checkout"
