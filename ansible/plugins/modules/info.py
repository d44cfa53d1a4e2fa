#!/usr/bin/python
# -*- coding: utf-8 -*-
# The fleet as data: `postfleet list --json` and `postfleet status --json`, read-only.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: info
short_description: The Postfix instances of a host, their state and queues, from postfleet
version_added: 0.1.0
description:
  - Reads the host's Postfix instances with C(postfleet list --json) and C(postfleet status --json),
    primary first, then the secondaries in C(multi_instance_directories) order, each with
    name, group, enabled, config and queue directories, whether its master runs, its pid and
    its queue counts.
  - Returns them as I(instances) and sets the fact C(postfleet_instances).
  - An instance postfleet cannot read (broken C(main.cf), conflicting directories) is listed
    with an C(error) and a warning; the others are still read.
  - Changes nothing; runs in check mode too.
author:
  - postfleet developers
extends_documentation_fragment:
  - postfleet.fleet.postfleet
options:
  name:
    description:
      - Only this instance (postfleet's C(-i) - a name, a name without C(postfix-), a config
        directory, or C(-) for the primary).
    type: str
  group:
    description:
      - Only the instances of this group.
    type: str
seealso:
  - module: postfleet.fleet.postfix
'''

EXAMPLES = r'''
- name: Read the fleet
  postfleet.fleet.info:
  register: fleet

- name: Instances holding deferred mail
  ansible.builtin.debug:
    msg: "{{ postfleet_instances | selectattr('queues', 'defined') | selectattr('queues.deferred', 'gt', 0) | map(attribute='instance') }}"
'''

RETURN = r'''
instances:
  description: The selected instances in list order; the same list is set as the fact C(postfleet_instances).
  returned: always
  type: list
  elements: dict
  contains:
    instance:
      description: The instance's label (its name; C(-) for a nameless primary; else its config directory).
      type: str
    name:
      description: C(multi_instance_name), or null.
      type: str
    group:
      description: C(multi_instance_group), or null.
      type: str
    enabled:
      description: C(multi_instance_enable).
      type: bool
    primary:
      description: Whether this is the primary instance.
      type: bool
    configDirectory:
      description: Its config directory.
      type: str
    queueDirectory:
      description: Its queue directory.
      type: str
    dataDirectory:
      description: Its data directory.
      type: str
    running:
      description: Whether its master runs.
      type: bool
    pid:
      description: The master's pid, or null.
      type: int
    queues:
      description: Messages per queue (incoming, active, deferred, hold, maildrop, corrupt); null where unreadable.
      type: dict
    error:
      description: Why postfleet could not read this instance (only then; most other keys are then absent).
      type: str
  sample:
    - instance: postfix-out
      name: postfix-out
      group: mta
      enabled: true
      primary: false
      configDirectory: /etc/postfix-out
      queueDirectory: /var/spool/postfix-out
      dataDirectory: /var/lib/postfix-out
      running: true
      pid: 4711
      queues: {incoming: 0, active: 0, deferred: 2, hold: 0, maildrop: 0, corrupt: 0}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import COMMON_ARGUMENT_SPEC, Postfleet, PostfleetFailure


def merge(listed, status):
    """list rows with the status row of the same config directory laid over them."""
    by_dir = dict((s.get('configDirectory'), s) for s in status or [])
    out = []
    for row in listed or []:
        merged = dict(row)
        merged.update(by_dir.get(row.get('configDirectory'), {}))
        out.append(merged)
    return out


def main():
    argument_spec = dict(name=dict(type='str'), group=dict(type='str'))
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('name', 'group')], supports_check_mode=True)
    select = []
    if module.params['name'] is not None:
        select = ['-i', module.params['name']]
    elif module.params['group'] is not None:
        select = ['-g', module.params['group']]
    pf = Postfleet(module)
    try:
        listed = pf.run('list', select, partial_ok=True)
        status = pf.run('status', select, partial_ok=True)
    except PostfleetFailure as e:
        e.fail(module)
    instances = merge(listed, status)
    module.exit_json(changed=False, instances=instances, ansible_facts=dict(postfleet_instances=instances))


if __name__ == '__main__':
    main()
