#!/usr/bin/env bash
# Installs the real Prometheus and Alertmanager the bake's tests run against (Debian's
# packages), unless both are already there. The packages' own services are never started:
# each test starts its own servers on free ports.
set -euo pipefail

binaries=(/usr/bin/prometheus /usr/bin/prometheus-alertmanager)
packages=(prometheus prometheus-alertmanager)

missing=0
for binary in "${binaries[@]}"; do
    [[ -x "$binary" ]] || missing=1
done
if [[ "$missing" == 0 ]]; then
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    echo "install-prometheus.sh: ${packages[*]} are missing and only root can install them" >&2
    exit 1
fi

# invoke-rc.d asks policy-rc.d whether a package may start its service: 101 says no.
policy=/usr/sbin/policy-rc.d
placed_policy=0
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    placed_policy=1
fi
remove_policy() {
    if [[ "$placed_policy" == 1 ]]; then
        rm -f "$policy"
    fi
}
trap remove_policy EXIT

export DEBIAN_FRONTEND=noninteractive
install() {
    apt-get install -y -q --no-install-recommends "${packages[@]}"
}
if ! install; then
    echo "install-prometheus.sh: install failed; updating the package lists and trying again" >&2
    apt-get update -q
    install
fi

for binary in "${binaries[@]}"; do
    if [[ ! -x "$binary" ]]; then
        echo "install-prometheus.sh: $binary is still missing after the install" >&2
        exit 1
    fi
done
