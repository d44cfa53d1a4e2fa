#!/bin/bash
# Print the number of running Postfix masters in this PID namespace: live (non-zombie)
# processes named "master" whose parent is not a master (a master's freshly forked child is
# named "master" too until it execs its daemon). Same rule as countMasters() in util.js.
declare -A comm state ppid
for s in /proc/[0-9]*/stat; do
  read -r line < "$s" 2>/dev/null || continue
  pid=${line%% *}
  c=${line#*(}; c=${c%)*}
  rest=${line##*) }
  read -r st pp _ <<< "$rest"
  comm[$pid]=$c; state[$pid]=$st; ppid[$pid]=$pp
done
n=0
for pid in "${!comm[@]}"; do
  [ "${comm[$pid]}" = master ] || continue
  [ "${state[$pid]}" = Z ] && continue
  [ "${comm[${ppid[$pid]}]:-}" = master ] && continue
  n=$((n + 1))
done
echo $n
