#!/usr/bin/env bash
# Installs Stoplight Prism and GitHub's published REST description (@octokit/openapi) into
# the folder given, for the GitHub deployments telling's contract test, unless both are
# already there. Pinned, so every machine checks the requests against the same description.
# Nothing is committed: the folder is a cache outside the repository.
set -euo pipefail

folder="${1:?usage: install-prism.sh FOLDER}"
packages=("@stoplight/prism-cli@5.16.0" "@octokit/openapi@23.0.2")
prism="$folder/node_modules/.bin/prism"
description="$folder/node_modules/@octokit/openapi/generated/api.github.com.json"

if [[ -x "$prism" && -f "$description" ]]; then
    exit 0
fi
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "install-prism.sh: $tool is missing: install Node.js 18 or later" >&2
        exit 1
    fi
done

mkdir -p "$folder"
npm install --prefix "$folder" --no-audit --no-fund --no-save --loglevel=error "${packages[@]}"

for needed in "$prism" "$description"; do
    if [[ ! -e "$needed" ]]; then
        echo "install-prism.sh: $needed is still missing after the install" >&2
        exit 1
    fi
done
