#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the browser tests (tests/test_report.py).
# Idempotent and quiet: does nothing when /usr/bin/chromium is already there.
# Needs root (or sudo) and the Debian package mirror; prints one line either way.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install_chromium.sh: not root and no sudo; install Debian's 'chromium' package by hand" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >"$log" 2>&1; then
    echo "install_chromium.sh: apt-get failed; last lines:" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
echo "install_chromium.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
