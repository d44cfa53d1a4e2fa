#!/bin/bash
# Same-run A/B of two postfleet builds (e.g. before and after a rebuild), alternating, so a
# machine's speed and load cancel out. Run inside the private world (bench/lib/world.sh):
#
#   unshare -m -p -f --mount-proc --propagation private --kill-child \
#     bash bench/lib/world.sh $PWD/bench/work/ab bash bench/ab-builds.sh OLD_CHECKOUT NEW_CHECKOUT [ROUNDS]
#
# Each checkout must be built (npm run build). Prints, per case and fleet size, the median
# wall time in ms of each build over ROUNDS (default 5) alternating rounds. Every case leaves
# the fleet as it found it (create then destroy, enable then disable). AB_SIZES (default
# "20 1000") and AB_CASES (an extended regex over the case names, default all) narrow it;
# the metrics case seeds 10 queued messages per instance first, as the queue phase does.
set -eu
OLD=$1 NEW=$2 ROUNDS=${3:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
backdate() { touch -d '-1 minute' /etc/postfix/main.cf /etc/postfix-*/main.cf 2>/dev/null || true; }

declare -A T
run_case() { # name, then a function taking the build dir
  local name=$1 fn=$2 r b key="$N:$1"
  [[ $name =~ ${AB_CASES:-.} ]] || return 0
  for ((r = 0; r < ROUNDS; r++)); do
    for b in old new; do
      local dir=$OLD; [ $b = new ] && dir=$NEW
      T[$key.$b]+="$($fn "$dir") "
    done
  done
  printf '%-34s old %6s ms   new %6s ms\n' "$name" \
    "$(tr ' ' '\n' <<<"${T[$key.old]}" | grep . | median)" "$(tr ' ' '\n' <<<"${T[$key.new]}" | grep . | median)"
}

create_compat() { backdate; local t; t=$(ms node "$1/bin/run.js" -I postfix-ab -G ab -e create); node "$1/bin/run.js" -i postfix-ab -e destroy >/dev/null; echo "$t"; }
destroy_compat() { backdate; node "$1/bin/run.js" -I postfix-ab -G ab -e create >/dev/null; backdate; ms node "$1/bin/run.js" -i postfix-ab -e destroy; }
create_modern() { backdate; local t; t=$(ms node "$1/bin/run.js" create postfix-ab -G ab); node "$1/bin/run.js" destroy postfix-ab >/dev/null; echo "$t"; }
destroy_modern() { backdate; node "$1/bin/run.js" create postfix-ab -G ab >/dev/null; backdate; ms node "$1/bin/run.js" destroy postfix-ab; }
enable_group() { backdate; local t; t=$(ms node "$1/bin/run.js" enable -g bench); node "$1/bin/run.js" disable -g bench >/dev/null; echo "$t"; }
apply_same() { backdate; ms node "$1/bin/run.js" apply /tmp/ab-manifest.ini; }
metrics() { ms node "$1/bin/run.js" metrics; }

for N in ${AB_SIZES:-20 1000}; do
  bash "$HERE/mkfleet.sh" "$N" no >/dev/null
  for ((k = 0; k < N; k++)); do printf '[postfix-b%d]\ngroup = bench\nenabled = no\n' "$k"; done >/tmp/ab-manifest.ini
  echo "== fleet of $N secondaries, $ROUNDS rounds, median"
  run_case "create (postmulti -e create)" create_compat
  run_case "destroy (postmulti -e destroy)" destroy_compat
  run_case "create NAME" create_modern
  run_case "destroy NAME" destroy_modern
  run_case "enable -g (all $N)" enable_group
  run_case "apply, nothing to change" apply_same
  if [[ "metrics" =~ ${AB_CASES:-.} ]]; then
    # The queue phase's messages: 10 per instance, half deferred, half on hold.
    node --input-type=module -e "import { seedQueues } from '$HERE/lib/queue-phase.js'; seedQueues($N, 10);" >/dev/null
    run_case "metrics ($((N * 10)) messages)" metrics
    node --input-type=module -e "import { unseedQueues } from '$HERE/lib/queue-phase.js'; unseedQueues($N);" >/dev/null
  fi
done
