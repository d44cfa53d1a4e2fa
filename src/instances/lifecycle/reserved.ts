/**
 * The main.cf parameters that an instance's identity and life-cycle own. A template, --set,
 * a manifest's set.NAME or `config set` may not write them: that would bypass the checks
 * and claims of names and private directories (an instance sharing the primary's queue,
 * say), or the rule that a new instance starts disabled. Each says what changes it instead,
 * in the words of the interface the operator used.
 */
export type Interface = 'create' | 'manifest' | 'config';

type Hints = Readonly<Record<Interface, string>>;

const same = (hint: string): Hints => ({ create: hint, manifest: hint, config: hint });
const fixedAtCreation = (param: string): Hints => ({
  create: `use --${param.replace('_', '-')}`,
  manifest: `use the ${param} key`,
  config: 'it is fixed when the instance is created or imported',
});

const OWNED: ReadonlyMap<string, Hints> = new Map([
  ['config_directory', fixedAtCreation('config_directory')],
  ['queue_directory', fixedAtCreation('queue_directory')],
  ['data_directory', fixedAtCreation('data_directory')],
  ['multi_instance_name', { create: 'the name is the argument of create', manifest: 'the section name is the instance name', config: "use 'postfleet assign --name'" }],
  ['multi_instance_group', { create: 'use --group', manifest: 'use the group key', config: "use 'postfleet assign --group'" }],
  [
    'multi_instance_enable',
    { create: "new instances start disabled; use 'postfleet enable' afterwards", manifest: 'use the enabled key', config: "use 'postfleet enable' or 'postfleet disable'" },
  ],
  ['multi_instance_directories', same("the instance list changes with 'postfleet create', 'import', 'deport' and 'destroy'")],
  ['multi_instance_wrapper', same("use 'postfleet init'")],
]);

/** What to use instead, when `param` is owned by identity or life-cycle; undefined otherwise. */
export function ownedParameterHint(param: string, via: Interface): string | undefined {
  return OWNED.get(param)?.[via];
}
