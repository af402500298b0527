#!/usr/bin/env bash
# Install Debian's PostgreSQL and Redis for the Airflow stack (scripts/airflow_stack.py, `make stack`)
# and its deployment test (tests/deploy/). Only the binaries: the stack runs its own private
# instances (initdb / redis-server under its --dir); no system service is enabled or started here.
# Idempotent and quiet: does nothing when initdb, pg_ctl and redis-server are already there.
# Needs root (or sudo) and the Debian package mirror; prints one line when it installs.
set -euo pipefail

pg_bin() {  # the newest installed PostgreSQL server's bin dir (Debian: /usr/lib/postgresql/<v>/bin)
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

have() {
    local bin
    bin="$(pg_bin)"
    [ -n "$bin" ] && [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && command -v redis-server >/dev/null 2>&1
}

if have; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install_services.sh: not root and no sudo; install Debian's 'postgresql' and 'redis-server' by hand" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# policy-rc.d: on machines with an init system, do not start the packaged system services.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && created_policy=1
fi
status=0
{ $SUDO apt-get update -qq && \
  $SUDO apt-get install -y -qq --no-install-recommends postgresql redis-server; } >"$log" 2>&1 || status=$?
if [ "$created_policy" -eq 1 ]; then
    $SUDO rm -f "$policy"
fi
if [ "$status" -ne 0 ] || ! have; then
    echo "install_services.sh: apt-get failed; last lines:" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
echo "install_services.sh: installed PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $NF}') and $(redis-server --version | awk '{print $3}')"
