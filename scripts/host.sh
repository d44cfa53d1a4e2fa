# Shell functions ./setup and ./run-tests share (sourced, not run): becoming root, Node.js,
# Debian packages. Debian's postfix is always installed with debconf's "No configuration"
# (no main.cf, so nothing to start), and no package may start a service while it installs.

die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Run as root: root just runs (a fresh Debian has no sudo); anyone else runs the script again
# through sudo, with its arguments. Call it first: it needs nothing but id (and sudo).
be_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null 2>&1 || die "needs root: run it as root (sudo is not installed)"
  exec sudo -- "$@"
}

apt_updated=
# apt-get install, non-interactive, without recommends, with service starts refused meanwhile
# (postinst scripts call invoke-rc.d / deb-systemd-invoke, which ask /usr/sbin/policy-rc.d).
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found; install by hand: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    apt-get update -q
    apt_updated=1
  fi
  if printf '%s\n' "$@" | grep -qx postfix; then
    command -v debconf-set-selections >/dev/null || apt-get install -y -q debconf
    echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  fi
  local policy_added= status=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -q --no-install-recommends "$@" || status=$?
  if [ -n "$policy_added" ]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  return "$status"
}

node_ok() {
  command -v node >/dev/null 2>&1 && node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1);'
}

# Node.js >= 20.19 and npm: Debian's own where it is new enough (Debian 13's is; Debian 12's
# 18.20 is not, and then the message says what to do).
require_node() {
  if node_ok; then
    command -v npm >/dev/null 2>&1 || apt_install npm
    return 0
  fi
  command -v apt-cache >/dev/null || die "Node.js >= 20.19 is needed (found: $(node --version 2>/dev/null || echo none))"
  if [ -z "$apt_updated" ]; then
    apt-get update -q
    apt_updated=1
  fi
  local candidate
  candidate=$(apt-cache policy nodejs 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && dpkg --compare-versions "$candidate" ge 20.19; then
    apt_install nodejs npm
    node_ok && return 0
  fi
  die "Node.js >= 20.19 is needed (found: $(node --version 2>/dev/null || echo none)); this system's nodejs package is ${candidate:-none}: Debian 13 has 20.19, Debian 12 has 18.20 — install Node.js 20.19 or later from another source (such as NodeSource's packages) and run this again"
}
