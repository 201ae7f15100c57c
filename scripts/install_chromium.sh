#!/usr/bin/env bash
# The browser tests (tests/e2e/browser) drive Debian's Chromium through Playwright: Playwright's own browser
# downloads do not work on closed networks, the distribution's package does. Installs it only when absent,
# quietly; `make test` runs this before pytest.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install_chromium: $CHROMIUM is missing and there is no apt-get; install Chromium so that it is $CHROMIUM" >&2
  exit 1
fi
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  SUDO=sudo
fi
echo "install_chromium: installing Debian's chromium package (the browser tests need it)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
test -x "$CHROMIUM"
