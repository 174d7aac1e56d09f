#!/bin/sh
# Installs Debian's Chromium for the dashboard's browser tests when /usr/bin/chromium is missing. Needs root (apt-get);
# without it, or if apt fails, this exits non-zero so the test run stops loudly instead of skipping the browser tests.
set -e
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "perdiem: /usr/bin/chromium is missing and installing it needs root: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
echo "perdiem: installing chromium for the browser tests (apt-get)…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "perdiem: apt-get did not install /usr/bin/chromium" >&2; exit 1; }
