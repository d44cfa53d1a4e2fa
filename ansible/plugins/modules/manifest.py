#!/usr/bin/python
# -*- coding: utf-8 -*-
# A whole fleet in one task: `postfleet apply` of an INI manifest, as one transaction.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: manifest
short_description: Make a host's Postfix instances match a manifest with postfleet apply
version_added: 0.1.0
description:
  - Runs C(postfleet apply) on the managed host. Instances of the manifest that are missing
    are created, existing ones get their group, enabled state and main.cf parameters brought
    in line; those whose I(state) is C(absent) are destroyed and those whose I(state) is
    C(deported) are taken off the instance list (their files stay), under the rules of
    C(postfleet destroy) and C(postfleet deport); instances the manifest does not name are
    left alone. postfleet plans the whole manifest first and applies it as one transaction,
    so a bad manifest, or one naming an instance that cannot be removed (enabled, running,
    or for C(absent) holding mail), changes nothing and fails with postfleet's reason.
  - The manifest comes from I(content), a dictionary of instances (written to postfleet's
    standard input as an INI manifest), or I(src), an INI manifest file on the managed host.
  - Check mode runs C(postfleet apply --dry-run) and reports exactly what would change.
    With C(--diff), every main.cf that changes is shown as its changed lines before and after, in context.
  - Starting and stopping instances is left to M(postfleet.fleet.postfix).
  - With I(rolling), the instances that change are changed batch by batch instead (postfleet's
    C(apply --rolling)) - each batch applied as one transaction, its running instances reloaded
    and health-probed before the next batch; a batch that fails its probes is undone and
    reloaded back, the roll-out stops and the task fails. C(instances) then lists, per
    instance, its batch, its outcome and whether it carries the change (C(carriesChange)), and
    C(rollout) is the whole report. Check mode shows the change as without I(rolling).
author:
  - postfleet developers
extends_documentation_fragment:
  - postfleet.fleet.postfleet
  - postfleet.fleet.postfleet.rolling
options:
  content:
    description:
      - The instances, in order, as a dictionary from instance name (C(postfix-...)) to its
        keys, all optional; a key left out leaves that property as it is.
      - C(state) (C(present), the default; C(absent); C(deported)), C(group) (str),
        C(enabled) (bool), C(template) (str), C(settings) (dict of main.cf parameters or
        template variables), C(config_directory), C(queue_directory), C(data_directory)
        (paths of a new instance). An instance whose state is C(absent) or C(deported)
        takes no other key.
      - Exactly one of I(content) and I(src) is required.
    type: dict
  src:
    description:
      - Path of an INI manifest on the managed host (see C(postfleet apply --help)).
      - To apply a manifest kept with the playbook, copy it first or pass it as I(content).
    type: path
  template_dir:
    description:
      - Directories of the operator's own templates, searched before postfleet's.
    type: list
    elements: path
seealso:
  - module: postfleet.fleet.instance
  - module: postfleet.fleet.postfix
'''

EXAMPLES = r'''
- name: The mail fleet of this host
  postfleet.fleet.manifest:
    content:
      postfix-out:
        group: mta
        enabled: true
        template: null-client
        settings:
          relayhost: '[relay.example.com]:587'
      postfix-in:
        group: mta
        enabled: true
        settings:
          myhostname: "mx.{{ inventory_hostname }}"

- name: Retire a customer's instances, and move one off the list, in one transaction
  postfleet.fleet.manifest:
    content:
      postfix-cust42-in:
        state: absent
      postfix-cust42-out:
        state: absent
      postfix-cust42-archive:
        state: deported

- name: A manifest file already on the host
  postfleet.fleet.manifest:
    src: /etc/postfleet/fleet.ini
    primary_config_dir: /etc/postfix

- name: A new banner, two instances at a time, each pair reloaded and probed
  postfleet.fleet.manifest:
    src: /etc/postfleet/fleet.ini
    rolling: true
    batch: 2
'''

RETURN = r'''
instances:
  description:
    - One entry per instance of the manifest, in manifest order, unchanged ones included,
      with what postfleet changed (or with check mode would change).
  returned: always
  type: list
  elements: dict
  sample:
    - instance: postfix-in
      name: postfix-in
      configDirectory: /etc/postfix-in
      action: update
      changed: true
      changes: ["edit /etc/postfix-in/main.cf: myhostname = mx.example.com"]
manifest:
  description: The INI manifest given to postfleet, when it was built from I(content).
  returned: when I(content) is given
  type: str
rollout:
  description:
    - With I(rolling) - postfleet's roll-out report (batches, where it stopped and why, and per
      instance its batch, outcome, steps with timings and last probe).
  returned: when I(rolling) ran a roll-out
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import (
    COMMON_ARGUMENT_SPEC, ROLLING_ARGUMENT_SPEC, ManifestError, Postfleet, PostfleetFailure, carried_diff, manifest_text,
    module_result, rolling_args, rolling_error, rollout_failure,
)


def main():
    argument_spec = dict(
        content=dict(type='dict'),
        src=dict(type='path'),
        template_dir=dict(type='list', elements='path'),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    argument_spec.update(ROLLING_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('content', 'src')],
        required_one_of=[('content', 'src')],
        supports_check_mode=True,
    )
    p = module.params
    bad = rolling_error(p)
    if bad is not None:
        module.fail_json(msg=bad)
    extra = {}
    data = None
    if p['content'] is not None:
        try:
            data = manifest_text(list(p['content'].items()))
        except ManifestError as e:
            module.fail_json(msg=str(e))
        if not data:
            module.fail_json(msg='content names no instance')
        extra['manifest'] = data
        args = ['-']
    else:
        args = [p['src']]
    for d in p['template_dir'] or []:
        args += ['--template-dir', d]
    pf = Postfleet(module)
    if module.check_mode:
        args.append('--dry-run')
    elif p['rolling']:
        module.exit_json(**roll(module, pf, args, data, extra))
    try:
        answer = pf.run('apply', args, data=data)
    except PostfleetFailure as e:
        e.fail(module, **extra)
    module.exit_json(**module_result(module, answer, **extra))


def roll(module, pf, args, data, extra):
    """apply --rolling: the module's result, or the task failed with where the roll-out stopped."""
    # The main.cf lines for --diff come from the plan (a dry run first), kept for the instances that carry the change.
    planned = pf.run('apply', args + ['--dry-run'], data=data) if module._diff else None
    try:
        report = pf.run('apply', args + rolling_args(module.params), data=data)
    except PostfleetFailure as e:
        if not (isinstance(e.result, dict) and 'batches' in e.result):
            e.fail(module, **extra)
        report = e.result
    result = module_result(module, report, rollout=report, **extra)
    if module._diff:
        result['diff'] = carried_diff(planned, report)
    failure = rollout_failure(report)
    if failure:
        module.fail_json(msg=failure, **result)
    return result


if __name__ == '__main__':
    main()
