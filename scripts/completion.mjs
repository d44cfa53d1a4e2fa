// Bash completion for postfleet, generated from oclif.manifest.json (commands, topics, flags,
// argument choices), for the Debian package. @oclif/plugin-autocomplete is not used: it is
// one more runtime plugin oclif would load on every start, and its bash script sources
// functions it writes at run time into each user's ~/.cache; a static file from the manifest
// does the same job from /usr/share/bash-completion. Instance and group values come from
// `postfleet -l` (the fast postmulti-style listing).

/** postfix(1) commands, for `postfleet postfix <TAB>` and `postfleet -p <TAB>`. */
const POSTFIX_COMMANDS = 'start stop reload restart status check flush abort drain quick-stop set-permissions upgrade-configuration tls logrotate';

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Commands whose arguments, however many, are instances (completed from `postfleet -l`) or config directories. */
const INSTANCE_ARGUMENTS = ['destroy', 'deport', 'enable', 'disable', 'assign'];
const DIRECTORY_ARGUMENTS = ['import'];
/** Values of flags that take one of a few words but check them themselves (--queue also takes a comma-separated list). */
const FLAG_VALUES = { queue: 'maildrop incoming active deferred hold corrupt' };

export function bashCompletion(manifest) {
  const commands = Object.values(manifest.commands ?? {}).filter((c) => !c.hidden);
  const ROOT = '@'; // bash associative arrays refuse an empty key
  const sub = new Map([[ROOT, new Set()]]);
  const flags = new Map();
  const args = new Map();
  const values = new Map(Object.entries(FLAG_VALUES));
  for (const c of commands) {
    const parts = c.id.split(':');
    for (let i = 0; i < parts.length; i++) {
      const parent = i === 0 ? ROOT : parts.slice(0, i).join(':');
      if (!sub.has(parent)) sub.set(parent, new Set());
      sub.get(parent).add(parts[i]);
    }
    const words = [];
    for (const [name, f] of Object.entries(c.flags ?? {})) {
      words.push(`--${name}`);
      if (f.char) words.push(`-${f.char}`);
      if (f.allowNo) words.push(`--no-${name}`);
      if (f.options?.length) values.set(name, f.options.join(' '));
    }
    flags.set(c.id, [...words, '--help'].sort().join(' '));
    const first = Object.values(c.args ?? {})[0];
    if (first?.options?.length) args.set(c.id, first.options.join(' '));
  }
  args.set('postfix', POSTFIX_COMMANDS);
  const many = new Map([...INSTANCE_ARGUMENTS.map((c) => [c, 'instances']), ...DIRECTORY_ARGUMENTS.map((c) => [c, 'directories'])].filter(([c]) => flags.has(c)));
  const assoc = (name, map) =>
    `  local -A ${name}=(\n${[...map].map(([k, v]) => `    [${q(k)}]=${q([...(v instanceof Set ? [...v].sort() : [v])].join(' '))}`).join('\n')}\n  )`;
  return `# bash completion for postfleet(1), generated from its command tree (scripts/completion.mjs).
# Instances by name and by config directory, from the fast postmulti-style listing.
_postfleet_instances() {
  postfleet -l 2>/dev/null | awk '$1 != "-" { print $1 } { print $4 }'
}
_postfleet() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
${assoc('sub', sub)}
${assoc('flags', flags)}
${assoc('args', args)}
${assoc('many', many)}
  case $prev in
${[...values].map(([name, words]) => `  --${name})\n    COMPREPLY=($(compgen -W ${q(words)} -- "$cur"))\n    return ;;`).join('\n')}
  -i | --instance | --before)
    COMPREPLY=($(compgen -W "$(_postfleet_instances)" -- "$cur"))
    return ;;
  -g | --group | -G | --before-group)
    COMPREPLY=($(compgen -W "$(postfleet -l 2>/dev/null | awk '$2 != "-" { print $2 }' | sort -u)" -- "$cur"))
    return ;;
  -c | --config-dir | --config-directory | --queue-directory | --data-directory | --template-dir)
    COMPREPLY=($(compgen -d -- "$cur"))
    return ;;
  -p)
    COMPREPLY=($(compgen -W ${q(POSTFIX_COMMANDS)} -- "$cur"))
    return ;;
  -e)
    COMPREPLY=($(compgen -W 'init create import deport destroy enable disable assign' -- "$cur"))
    return ;;
  --probe-rcpt)
    COMPREPLY=($(compgen -W 'none' -- "$cur"))
    return ;;
  --batch | --pause | --max-failed | --probe-timeout)
    # a number or a duration: nothing to offer
    return ;;
  esac
  # postmulti-compatible mode: the first argument is an option.
  if [[ \${COMP_WORDS[1]} == -* && $COMP_CWORD -gt 1 || $cur == -* && $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W '-a -e -g -i -j -G -I -l -p -R -v -x -P --help --version' -- "$cur"))
    return
  fi
  local path=@ i w next
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    next=$w
    [[ $path == @ ]] || next=$path:$w
    if [[ -n \${sub[$next]+x} || -n \${flags[$next]+x} ]]; then path=$next; else break; fi
  done
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "\${flags[$path]:---help --version}" -- "$cur"))
  elif [[ -n \${sub[$path]+x} && -z \${flags[$path]+x} ]]; then
    COMPREPLY=($(compgen -W "\${sub[$path]}" -- "$cur"))
  elif [[ -n \${args[$path]+x} && $i -eq $COMP_CWORD ]]; then
    COMPREPLY=($(compgen -W "\${args[$path]}" -- "$cur"))
  elif [[ \${many[$path]-} == instances ]]; then
    COMPREPLY=($(compgen -W "$(_postfleet_instances)" -- "$cur"))
  elif [[ \${many[$path]-} == directories ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _postfleet postfleet
`;
}
