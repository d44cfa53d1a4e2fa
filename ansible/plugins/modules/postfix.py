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
  - With I(rolling), the instances that need it are acted on batch by batch instead, each
    batch health-probed before the next (postfleet's C(--rolling)); the first failure past
    I(max_failed) stops the roll-out and fails the task, and the instances not reached are
    left as they are. The roll-out's report is returned as C(rollout).
author:
  - postfleet developers
extends_documentation_fragment:
  - postfleet.fleet.postfleet
  - postfleet.fleet.postfleet.rolling
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

- name: Restart the group a quarter at a time, each quarter probed, one failure tolerated
  postfleet.fleet.postfix:
    group: mta
    state: restarted
    rolling: true
    batch: 25%
    pause: 30s
    max_failed: 1
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
rollout:
  description:
    - With I(rolling) - postfleet's roll-out report (batches, where it stopped and why, and per
      instance its batch, outcome, steps with timings and last probe).
  returned: when I(rolling) ran a roll-out
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import (
    COMMON_ARGUMENT_SPEC, ROLLING_ARGUMENT_SPEC, Postfleet, PostfleetFailure, rolling_args, rolling_error, rollout_failure,
)


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
    argument_spec.update(ROLLING_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('name', 'group')], supports_check_mode=True)
    p = module.params
    if p['parallel'] is not None and p['parallel'] < 1:
        module.fail_json(msg='parallel must be at least 1, not %d' % p['parallel'])
    bad = rolling_error(p)
    if bad is None and p['rolling'] and p['state'] == 'stopped':
        bad = 'rolling applies to started, reloaded and restarted, not stopped'
    if bad is not None:
        module.fail_json(msg=bad)
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
        rollout = None
        if module.check_mode:
            failures, acted = {}, set()
        elif p['rolling']:
            failures, acted, rollout = run_rolling(module, pf, select, before, actions)
        else:
            failures = run(module, pf, select, before, actions)
            acted = set(d for d in actions if d not in failures)
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
            changed = master(r) != master(a) or ('reload' in done and d in acted)
        instances.append(dict(instance=r.get('instance'), configDirectory=d, enabled=bool(r.get('enabled')),
                              action='+'.join(done) or None, before=master(r), after=master(a), changed=changed))
    result = dict(changed=any(i['changed'] for i in instances), instances=instances)
    if rollout is not None:
        result['rollout'] = rollout
    stopped = rollout_failure(rollout)
    if failures or stopped:
        module.fail_json(msg=stopped or '; '.join(failures.values()), **result)
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


ROLLING_VERB = dict(reloaded='reload', restarted='restart', started='start')


def rolling_selection(select, rows, actions):
    """The selection of a roll-out: the module's own when every enabled instance needs the command, else those that do (-i each, list order kept)."""
    enabled = [r['configDirectory'] for r in rows if r.get('enabled')]
    targets = [d for d in enabled if actions.get(d)]
    if not targets:
        return None
    return select if targets == enabled else [a for d in targets for a in ('-i', d)]


def run_rolling(module, pf, select, rows, actions):
    """One `postfleet postfix VERB --rolling` over the instances that need it; returns (failures, acted on, report)."""
    sel = rolling_selection(select, rows, actions)
    if sel is None:
        return {}, set(), None
    extra = ['--parallel', str(module.params['parallel'])] if module.params['parallel'] else []
    try:
        report = pf.run('postfix', [ROLLING_VERB[module.params['state']]] + sel + rolling_args(module.params) + extra)
    except PostfleetFailure as e:
        # A roll-out that stopped or had failures exits 1 with its report: the report says what happened.
        if not (isinstance(e.result, dict) and 'batches' in e.result):
            raise
        report = e.result
    members = report.get('instances') or []
    failures = dict((i['configDirectory'], '%s: %s' % (i.get('instance'), i.get('error') or i.get('outcome')))
                    for i in members if i.get('outcome') in ('failed', 'rolled back', 'interrupted'))
    acted = set(i['configDirectory'] for i in members if i.get('outcome') == 'done')
    return failures, acted, report


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
