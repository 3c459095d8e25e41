#!/usr/bin/env bash
# Installs the Debian and npm packages that tests and the demo need, when missing.
# Idempotent and quiet when everything is present; needs root (as on CI) to install.
set -euo pipefail

debian_packages=(nodejs npm)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  # node may come from elsewhere than Debian (as on these machines): only require the binaries.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

# promtool and amtool check the generated alert rules and Alertmanager config. The packages'
# maintainer scripts would start prometheus/alertmanager: a temporary policy-rc.d (exit 101)
# forbids that, so nothing is left running.
if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null; then
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager
  if [ -n "$added_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# Headless Chromium for the dashboard's browser test (Playwright drives /usr/bin/chromium; its
# own browser download is not reachable).
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

# npm packages pinned in package.json / package-lock.json (Azurite for the Azure Blob tests).
repo_root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$repo_root/node_modules/.bin/azurite-blob" ]; then
  (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error)
fi
