#!/usr/bin/python
# -*- coding: utf-8 -*-
# Start, stop, reload or restart selected instances with `postfleet postfix CMD`; what changed
# is read from `postfleet status --json` before and after (master running, master pid).
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: postfix
short_description: Start, stop, reload or restart selected Postfix instances with postfleet
version_added: 0.1.0
description:
  - Runs C(postfleet postfix start|stop|reload) on the selected instances of the managed host,
    with postmulti's rules - only enabled instances are started, stopped or reloaded.
  - Only the instances that need it are acted on - C(started) starts the enabled instances
    whose master is not running, C(stopped) stops the running ones - so a second run changes
    nothing. C(changed) is true only when a master actually changed state (compared with
    C(postfleet status) before and after), or for C(reloaded) when a running master was told
    to reload.
  - Check mode runs nothing and reports the instances that would be started, stopped,
    reloaded or restarted.
  - A failure of postfix(1) for an instance fails the task with its message; the other
    instances are still acted on.
author:
  - postfleet developers
extends_documentation_fragment:
  - postfleet.fleet.postfleet
options:
  state:
    description:
      - C(started) starts enabled instances that are not running; C(stopped) stops running
        enabled ones; C(reloaded) reloads running enabled ones; C(restarted) stops running
        enabled instances and starts every enabled one.
    type: str
    required: true
    choices: [started, stopped, reloaded, restarted]
  name:
    description:
      - Only this instance (postfleet's C(-i) - a name, a name without C(postfix-), a config
        directory, or C(-) for the primary). Default - every instance, the primary included.
    type: str
  group:
    description:
      - Only the instances of this group.
    type: str
  parallel:
    description:
      - Instances in flight at once (postfleet's C(--parallel)); default is postfleet's.
    type: int
seealso:
  - module: postfleet.fleet.info
  - module: postfleet.fleet.instance
'''

EXAMPLES = r'''
- name: Start the mail transfer instances
  postfleet.fleet.postfix:
    group: mta
    state: started

- name: Reload one instance after its main.cf changed
  postfleet.fleet.postfix:
    name: postfix-out
    state: reloaded
'''

RETURN = r'''
instances:
  description: The selected instances, each with its master before and after, and whether it changed.
  returned: always
  type: list
  elements: dict
  sample:
    - instance: postfix-out
      configDirectory: /etc/postfix-out
      enabled: true
      action: start
      before: {running: false, pid: null}
      after: {running: true, pid: 4711}
      changed: true
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import COMMON_ARGUMENT_SPEC, Postfleet, PostfleetFailure


def master(row):
    return dict(running=bool(row.get('running')), pid=row.get('pid'))


def plan(state, rows):
    """Per instance the postfix(1) commands that bring it to `state`, in order."""
    actions = {}
    for r in rows:
        if not r.get('enabled'):
            continue
        running = bool(r.get('running'))
        if state == 'started' and not running:
            actions[r['configDirectory']] = ['start']
        elif state == 'stopped' and running:
            actions[r['configDirectory']] = ['stop']
        elif state == 'reloaded' and running:
            actions[r['configDirectory']] = ['reload']
        elif state == 'restarted':
            actions[r['configDirectory']] = (['stop'] if running else []) + ['start']
    return actions


def main():
    argument_spec = dict(
        state=dict(type='str', required=True, choices=['started', 'stopped', 'reloaded', 'restarted']),
        name=dict(type='str'),
        group=dict(type='str'),
        parallel=dict(type='int'),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('name', 'group')], supports_check_mode=True)
    p = module.params
    if p['parallel'] is not None and p['parallel'] < 1:
        module.fail_json(msg='parallel must be at least 1, not %d' % p['parallel'])
    select = []
    if p['name'] is not None:
        select = ['-i', p['name']]
    elif p['group'] is not None:
        select = ['-g', p['group']]
    pf = Postfleet(module)
    try:
        before = [r for r in pf.run('status', select, partial_ok=True) or [] if 'error' not in r]
        actions = plan(p['state'], before)
        if p['state'] == 'stopped':
            for r in before:
                if r.get('running') and not r.get('enabled'):
                    module.warn('%s is running but disabled: postfix stop skips it, as postmulti does' % r.get('instance'))
        failures = [] if module.check_mode else run(module, pf, select, before, actions)
        after = before if module.check_mode else [r for r in pf.run('status', select, partial_ok=True) or [] if 'error' not in r]
    except PostfleetFailure as e:
        e.fail(module)
    after_by_dir = dict((r.get('configDirectory'), r) for r in after)
    if not module.check_mode:
        # What postfleet said is not enough: the state asked for must be what status shows now.
        for d, why in unreached(p['state'], before, after_by_dir).items():
            failures.setdefault(d, why)
    instances = []
    for r in before:
        d = r.get('configDirectory')
        done = actions.get(d, [])
        a = after_by_dir.get(d, r)
        if module.check_mode:
            changed = bool(done)
        else:
            changed = master(r) != master(a) or ('reload' in done and d not in failures)
        instances.append(dict(instance=r.get('instance'), configDirectory=d, enabled=bool(r.get('enabled')),
                              action='+'.join(done) or None, before=master(r), after=master(a), changed=changed))
    result = dict(changed=any(i['changed'] for i in instances), instances=instances)
    if failures:
        module.fail_json(msg='; '.join(failures.values()), **result)
    module.exit_json(**result)


def unreached(state, before, after_by_dir):
    """{config directory: why} for each enabled instance whose master is not as `state` asks."""
    out = {}
    for r in before:
        if not r.get('enabled'):
            continue
        d = r.get('configDirectory')
        a = after_by_dir.get(d)
        if a is None:
            out[d] = '%s: its status could not be read after the change' % r.get('instance')
            continue
        if state == 'stopped' and a.get('running'):
            out[d] = '%s: still running (pid %s) after stop' % (r.get('instance'), a.get('pid'))
        elif state != 'stopped' and not a.get('running') and (state != 'reloaded' or r.get('running')):
            out[d] = '%s: not running after %s' % (r.get('instance'), state[:-2] if state.endswith('ed') else state)
        elif state == 'restarted' and r.get('running') and a.get('pid') == r.get('pid'):
            out[d] = '%s: its master was not restarted (pid %s still runs)' % (r.get('instance'), a.get('pid'))
    return out


def run(module, pf, select, rows, actions):
    """Runs the planned commands; returns {config directory: failure message}."""
    failures = {}
    enabled = [r['configDirectory'] for r in rows if r.get('enabled')]
    extra = ['--parallel', str(module.params['parallel'])] if module.params['parallel'] else []
    for step in ('stop', 'reload', 'start'):
        targets = [d for d in enabled if step in actions.get(d, []) and d not in failures]
        if not targets:
            continue
        # The whole selection in one postfleet run when every enabled instance needs the step
        # (postfix(1) refuses to start a running master or stop a stopped one); else one by one.
        batches = [select] if targets == enabled else [['-i', d] for d in targets]
        for sel in batches:
            for r in pf.run('postfix', [step] + sel + extra, partial_ok=True) or []:
                # Only the targets count: a whole-selection start also runs `check` on disabled ones.
                if r.get('exitCode') != 0 and r.get('configDirectory') in targets:
                    out = (r.get('output') or '').strip().splitlines()
                    failures[r['configDirectory']] = '%s: postfix %s failed (exit %s)%s' % (
                        r.get('instance'), step, r.get('exitCode'), ': ' + out[-1] if out else '')
    return failures


if __name__ == '__main__':
    main()
