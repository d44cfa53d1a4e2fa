#!/bin/bash
# Private world for the benchmarks. Run as PID 1 of a fresh PID + mount namespace:
#
#   unshare -m -p -f --mount-proc --propagation private --kill-child \
#     bash bench/lib/world.sh WORKDIR CMD [ARGS...]
#
# Mounts overlayfs over /etc, /var/spool, /var/lib, /var/log and /var/cache (upper/work dirs in
# WORKDIR/ov, i.e. under bench/work/, which is git-ignored), resets the primary Postfix
# instance to a pristine state, runs `postmulti -e init`, then runs CMD as a child (not exec:
# this bash stays PID 1 and reaps the daemonised Postfix masters). When CMD ends this shell
# exits, the kernel kills everything left in the namespace and the mounts vanish with it.
set -u
W=$1; shift
fail() { echo "bench world: $*" >&2; exit 97; }
[ "$$" = 1 ] || fail "must run as PID 1 of a new PID namespace (use unshare -p -f --mount-proc)"
mkdir -p "$W/ov" || fail "mkdir $W/ov"

# Never let a mount made here leak to the host, whatever unshare's defaults.
mount --make-rprivate / || fail "cannot make / private"

DIRS=(/etc /var/spool /var/lib /var/log /var/cache)
# Submounts under an overlaid dir (container bind mounts like /etc/hosts) would be hidden by
# the overlay: bind them again on top of it.
SUBS=()
while read -r _ _ _ _ mp _; do
  mp=$(printf '%b' "$mp")
  for d in "${DIRS[@]}"; do case $mp in "$d"/*) SUBS+=("$mp") ;; esac; done
done < /proc/self/mountinfo
for d in "${DIRS[@]}"; do
  n=${d//\//_}
  if [ "${#SUBS[@]}" -gt 0 ]; then mkdir -p "$W/stage$d" && mount --rbind "$d" "$W/stage$d"; fi
  mkdir -p "$W/ov/upper$n" "$W/ov/work$n" || fail "mkdir upper/work for $d"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$W/ov/upper$n,workdir=$W/ov/work$n" "$d" \
    || fail "cannot mount overlayfs over $d"
done
for s in "${SUBS[@]}"; do mount --rbind "$W/stage$s" "$s" 2>/dev/null || true; done
# Keep syslog messages of the instances away from any host syslog daemon.
if [ -S /dev/log ]; then mount --bind /dev/null /dev/log 2>/dev/null || true; fi

# Pristine primary instance.
shopt -s nullglob dotglob
rm -rf /etc/postfix-* /var/spool/postfix-* /var/lib/postfix-* /var/cache/postfleet
mkdir -p /etc/postfix
rm -f /etc/postfix/main.cf /etc/postfix/master.cf /var/log/postfix.log
cat > /etc/postfix/main.cf <<'CF'
# postfleet bench: pristine primary instance
compatibility_level = 3.6
myhostname = bench.postfleet.test
master_service_disable = inet
maillog_file = /var/log/postfix.log
inet_interfaces = loopback-only
CF
if [ -f /usr/share/postfix/master.cf.dist ]; then
  cp /usr/share/postfix/master.cf.dist /etc/postfix/master.cf
else
  cp /etc/postfix/master.cf.proto /etc/postfix/master.cf
fi
for q in active bounce corrupt defer deferred flush hold incoming maildrop saved trace pid private public; do
  [ -d "/var/spool/postfix/$q" ] && rm -rf "/var/spool/postfix/$q"/*
done
rm -rf /var/lib/postfix/*
shopt -u nullglob dotglob
touch -d '-1 minute' /etc/postfix/main.cf /etc/postfix/master.cf
postfix set-permissions >/dev/null 2>&1 || true
postmulti -e init || fail "postmulti -e init failed"
touch -d '-1 minute' /etc/postfix/main.cf

"$@"
# Whatever is still running (masters) is killed by the kernel when this PID 1 exits.
exit $?
