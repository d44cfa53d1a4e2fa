#!/usr/bin/python
# -*- coding: utf-8 -*-
# One Postfix instance, through postfleet: `postfleet apply -` with a one-section manifest,
# whatever the state: present creates, regroups, reconfigures, enables or disables; absent
# destroys; deported takes it off the list.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: instance
short_description: Create, configure, enable, disable, destroy or deport one Postfix instance with postfleet
version_added: 0.1.0
description:
  - Makes one secondary Postfix instance of a multi-instance host match the task, through
    postfleet (a postmulti-compatible manager) on the managed host.
  - With I(state=present) the instance is created when missing (from C(main.cf.proto) or a
    template), and its group, enabled state and main.cf parameters are brought in line, as
    C(postfleet apply) does with a one-instance manifest. Anything not given is left as it is.
  - With I(state=absent) the instance is destroyed as C(postfleet destroy) does it, only when
    it is disabled, stopped and its queue is empty; else the task fails with postfleet's reason.
    With I(state=deported) it is taken off the instance list as C(postfleet deport) does it
    (disabled and stopped; its files stay, listed in C(alternate_config_directories)).
    Both go through C(postfleet apply) with a one-section manifest whose C(state) is
    C(absent) or C(deported), the path of M(postfleet.fleet.manifest).
  - Check mode runs postfleet with C(--dry-run) and reports exactly what would change.
    With C(--diff), every main.cf that changes is shown as its changed lines before and after, in context.
  - The primary instance must have been prepared with C(postfleet init) (or C(postmulti -e init)).
author:
  - postfleet developers
extends_documentation_fragment:
  - postfleet.fleet.postfleet
options:
  name:
    description:
      - Instance name, C(multi_instance_name); it starts with C(postfix-).
    type: str
    required: true
  state:
    description:
      - C(present) creates the instance if needed and brings it in line; C(absent) destroys it;
        C(deported) takes it off the instance list and keeps its files.
    type: str
    choices: [present, absent, deported]
    default: present
  group:
    description:
      - Instance group, C(multi_instance_group). Left as it is when omitted.
    type: str
  enabled:
    description:
      - Whether the instance is enabled (C(multi_instance_enable)); enabled instances are the
        ones C(postfix start) starts. Left as it is when omitted; new instances start disabled.
      - This does not start or stop the instance; use M(postfleet.fleet.postfix) for that.
    type: bool
  template:
    description:
      - postfleet template to create the instance from (one of C(postfleet templates)).
      - Used when the instance is created.
    type: str
  template_dir:
    description:
      - Directories of the operator's own templates, searched before postfleet's.
    type: list
    elements: path
  settings:
    description:
      - main.cf parameters of the instance (or the template's variables), name to value.
        Lists are joined with C(, ); booleans are written C(yes)/C(no).
      - Parameters not named here are left as they are.
    type: dict
  config_directory:
    description:
      - Configuration directory of a new instance. Default is the primary's with its last
        component replaced by the name (C(/etc/postfix) gives C(/etc/postfix-out)).
    type: path
  queue_directory:
    description:
      - Queue directory of a new instance, derived from the primary's as I(config_directory) is.
    type: path
  data_directory:
    description:
      - Data directory of a new instance, derived from the primary's as I(config_directory) is.
    type: path
  force:
    description:
      - With I(state=absent) or I(state=deported), stop a running instance
        (C(postfleet postfix stop)) and disable an enabled one before removing it.
      - Queued mail is never deleted. With I(state=absent), an instance whose queue holds
        messages is left alone and the task fails, before anything is stopped or disabled.
    type: bool
    default: false
seealso:
  - module: postfleet.fleet.manifest
  - module: postfleet.fleet.postfix
  - module: postfleet.fleet.info
'''

EXAMPLES = r'''
- name: An outbound relay instance, enabled
  postfleet.fleet.instance:
    name: postfix-out
    group: mta
    enabled: true
    template: null-client
    settings:
      relayhost: '[relay.example.com]:587'

- name: An inbound instance with its own directories, under another primary
  postfleet.fleet.instance:
    name: postfix-in
    primary_config_dir: /etc/postfix
    config_directory: /srv/mail/in/etc
    queue_directory: /srv/mail/in/spool
    data_directory: /srv/mail/in/lib
    settings:
      myhostname: mx.example.com
      mynetworks: [127.0.0.0/8, '[::1]/128']

- name: Take an instance off the list, keeping its files (to import it elsewhere)
  postfleet.fleet.instance:
    name: postfix-moving
    state: deported

- name: Retire an instance that may still be running (refused while it holds mail)
  postfleet.fleet.instance:
    name: postfix-old
    state: absent
    force: true
'''

RETURN = r'''
instances:
  description:
    - What postfleet did (or with check mode would do) to each instance, one entry per
      postfleet action (C(create), C(update), C(enable), C(disable), C(destroy) ...).
  returned: always
  type: list
  elements: dict
  sample:
    - instance: postfix-out
      name: postfix-out
      configDirectory: /etc/postfix-out
      action: create
      changed: true
      changes: ["mkdir /etc/postfix-out (mode 0755)"]
stopped:
  description: Whether the instance was stopped (or with check mode would be) before it was removed.
  returned: when I(state=absent) or I(state=deported)
  type: bool
status:
  description: The instance as C(postfleet status --json) saw it before the task; null when it did not exist.
  returned: when I(state=absent) or I(state=deported)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import (
    COMMON_ARGUMENT_SPEC, ManifestError, Postfleet, PostfleetFailure, merge_results, manifest_section, module_result,
)


def find_status(rows, name):
    """The first status row (list order) that `name` selects, by postfleet's -i rules: the
    name; the name without 'postfix-'; the config directory (a path, or a nameless instance)."""
    for row in rows or []:
        own = row.get('name')
        if name.startswith('/') or own is None:
            candidate = row.get('configDirectory')
        elif not name.startswith('postfix-') and own.startswith('postfix-'):
            candidate = own[len('postfix-'):]
        else:
            candidate = own
        if candidate == name:
            return row
    return None


def queued(row):
    return sum(n for n in (row.get('queues') or {}).values() if n)


def present(module, pf):
    p = module.params
    spec = dict((k, p[k]) for k in ('group', 'enabled', 'template', 'settings', 'config_directory', 'queue_directory', 'data_directory'))
    try:
        manifest = manifest_section(p['name'], spec)
    except ManifestError as e:
        module.fail_json(msg=str(e))
    args = ['-']
    for d in p['template_dir'] or []:
        args += ['--template-dir', d]
    if module.check_mode:
        args.append('--dry-run')
    answer = pf.run('apply', args, data=manifest)
    return module_result(module, answer)


def absent(module, pf):
    """state=absent or deported: the instance as status finds it, stopped and disabled first with force."""
    p = module.params
    name = p['name']
    rows = pf.run('status', partial_ok=True)
    row = find_status(rows, name)
    if row is None:
        return dict(changed=False, instances=[], stopped=False, status=None)
    dry = ['--dry-run'] if module.check_mode else []
    steps = []
    stopped = False
    if p['force'] and (row.get('enabled') or row.get('running')):
        n = queued(row)
        if n > 0 and p['state'] == 'absent':
            module.fail_json(msg="%s holds %d queued message(s) in %s; force never deletes mail: deliver or remove them first"
                             % (name, n, row.get('queueDirectory')), status=row)
        if row.get('running'):
            stopped = True
            if not module.check_mode:
                stop(module, pf, row)
        if row.get('enabled'):
            steps.append(pf.run('disable', [name] + dry))
        if module.check_mode:
            # The removal's --dry-run would refuse the instance that is still enabled or running now.
            action = 'destroy' if p['state'] == 'absent' else 'deport'
            planned = dict(instance=row.get('instance'), name=row.get('name'), configDirectory=row.get('configDirectory'),
                           action=action, changed=True, changes=['%s %s (after it is stopped and disabled)' % (action, row.get('configDirectory'))])
            steps.append(dict(changed=True, instances=[planned]))
            return module_result(module, merge_results(steps), stopped=stopped, status=row)
    steps.append(remove(pf, row, p['state'], dry))
    return module_result(module, merge_results(steps), stopped=stopped, status=row)


def remove(pf, row, state, dry):
    """A one-section manifest with that state, through apply: the manifest module's path, the
    same plan and refusals. A nameless instance, which no manifest section can name, by its
    directory with destroy or deport (the same planner)."""
    if row.get('name'):
        try:
            manifest = manifest_section(row['name'], dict(state=state))
        except ManifestError as e:
            raise PostfleetFailure(str(e))
        return pf.run('apply', ['-'] + dry, data=manifest)
    return pf.run('destroy' if state == 'absent' else 'deport', [row.get('configDirectory')] + dry)


def stop(module, pf, row):
    """Stops the instance's master; an enabled one the way `postfix stop` does, a disabled one
    (which `postfix stop` skips, as postmulti does) with its own postfix(1)."""
    target = row.get('configDirectory')
    if row.get('enabled'):
        runs = pf.run('postfix', ['stop', '-i', target], partial_ok=True)
    else:
        runs = pf.run('exec', ['-i', target, '--', 'postfix', 'stop'], partial_ok=True)
    for r in runs or []:
        if r.get('exitCode') != 0:
            module.fail_json(msg='%s: postfix stop failed (exit %s): %s' % (r.get('instance'), r.get('exitCode'), (r.get('output') or '').strip()))
    after = find_status(pf.run('status', partial_ok=True), module.params['name'])
    if after and after.get('running'):
        module.fail_json(msg='%s: still running (master pid %s) after postfix stop' % (module.params['name'], after.get('pid')))


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent', 'deported']),
        group=dict(type='str'),
        enabled=dict(type='bool'),
        template=dict(type='str'),
        template_dir=dict(type='list', elements='path'),
        settings=dict(type='dict'),
        config_directory=dict(type='path'),
        queue_directory=dict(type='path'),
        data_directory=dict(type='path'),
        force=dict(type='bool', default=False),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if p['state'] != 'present':
        given = [k for k in ('group', 'enabled', 'template', 'template_dir', 'settings', 'config_directory', 'queue_directory', 'data_directory') if p[k] is not None]
        if given:
            module.fail_json(msg='state=%s takes no %s' % (p['state'], ', '.join(given)))
    elif p['force']:
        module.fail_json(msg='force applies to state=absent or deported only')
    pf = Postfleet(module)
    try:
        result = present(module, pf) if p['state'] == 'present' else absent(module, pf)
    except PostfleetFailure as e:
        e.fail(module)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
