#!/bin/bash
# Fast fixture maker: a fleet of N secondary Postfix instances postfix-b0 .. postfix-b(N-1),
# group "bench", without calling postmulti N times.
#
#   bench/mkfleet.sh N [yes|no]
#
# Run inside the private world (bench/lib/world.sh) after `postmulti -e init`. postfix-b0 is
# made once by a real `postmulti -I postfix-b0 -G bench -e create`; every other instance is a
# copy of it: main.cf with the instance name / queue_directory / data_directory rewritten by
# sed, master.cf copied, and the queue and data directory skeletons copied with `cp -a`
# (owners and modes kept). Instances that already exist are reused, so growing a fleet is
# cheap. The primary's multi_instance_directories is set to exactly the N instances, in
# order; instances b>=N stay on disk but are no longer managed. The second argument (default
# "no") sets multi_instance_enable in all N instances. Finally every main.cf is back-dated by
# a minute: Postfix programs pause ~1.5 s when a main.cf is less than a second old.
set -eu
N=$1
EN=${2:-no}
case $EN in yes|no) ;; *) echo "usage: $0 N [yes|no]" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "N must be >= 1" >&2; exit 2; }

T=/etc/postfix-b0
if [ ! -f $T/master.cf ]; then
  postmulti -I postfix-b0 -G bench -e create
fi

dirs=()
for ((k = 0; k < N; k++)); do
  d=/etc/postfix-b$k
  dirs+=("$d")
  [ -f "$d/master.cf" ] && continue
  mkdir -p "$d"
  # "postfix-b0" not followed by a digit (so postfix-b0 never matches inside postfix-b01).
  sed -E "s#postfix-b0([^0-9]|\$)#postfix-b$k\\1#g" $T/main.cf > "$d/main.cf"
  cp -a /var/spool/postfix-b0 "/var/spool/postfix-b$k"
  cp -a /var/lib/postfix-b0 "/var/lib/postfix-b$k"
  cp -p $T/master.cf "$d/master.cf"   # written last, as postmulti does
done

# multi_instance_enable = yes|no in every managed instance (replace in place, else append).
files=()
for d in "${dirs[@]}"; do files+=("$d/main.cf"); done
printf '%s\n' "${files[@]}" | xargs -r sed -i -E '/^multi_instance_enable[[:space:]]*=/d'
for f in "${files[@]}"; do echo "multi_instance_enable = $EN" >> "$f"; done

postconf -e "multi_instance_directories = ${dirs[*]}"
touch -d '-1 minute' /etc/postfix/main.cf /etc/postfix/master.cf
printf '%s\n' /etc/postfix-b*/main.cf | xargs -r touch -d '-1 minute'
