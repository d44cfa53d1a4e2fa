#!/usr/bin/python
# -*- coding: utf-8 -*-
# The fleet's mail queues: `postfleet queue list --json` as info, and
# `postfleet queue hold|release|delete|requeue --json` (with --dry-run in check mode).
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: queue
short_description: List, hold, release, delete or requeue queued mail across Postfix instances with postfleet
version_added: 0.1.0
description:
  - C(action=list) returns the queued messages of the selected instances that the filters
    select, read natively by C(postfleet queue list --json) - each with the fields of
    C(postqueue -j) (queue_name, queue_id, arrival_time, message_size, forced_expire, sender,
    recipients with address and delay_reason) and the instance. It changes nothing.
  - C(action=hold), C(release), C(delete) and C(requeue) act on the messages the filters
    select, through Postfix's own postsuper (one per affected instance, the queue ids on its
    standard input). C(changed) is true when a message was acted on; a second run with the
    same filters finds nothing left to do.
  - In check mode the actions run C(postfleet queue ... --dry-run) and report the messages
    that would be acted on; nothing changes.
  - A delete that no message filter narrows (I(sender), I(recipient), I(older), I(younger),
    I(reason), I(id)) is refused unless I(all=true).
author:
  - postfleet developers
extends_documentation_fragment:
  - postfleet.fleet.postfleet
options:
  action:
    description:
      - What to do with the selected messages.
    type: str
    default: list
    choices: [list, hold, release, delete, requeue]
  name:
    description:
      - Only this instance (postfleet's C(-i) - a name, a name without C(postfix-), a config
        directory, or C(-) for the primary). Default - every instance.
    type: str
  group:
    description:
      - Only the instances of this group.
    type: str
  sender:
    description:
      - Senders to select (C(--from)) - an address, C(@domain), or a glob such as C(*@*.example.com); any of them.
    type: list
    elements: str
  recipient:
    description:
      - Recipients to select (C(--to)) - an address, C(@domain) or a glob; a message is selected when one of its recipients matches one of them.
    type: list
    elements: str
  queue:
    description:
      - Only these queues.
    type: list
    elements: str
    choices: [maildrop, incoming, active, deferred, hold, corrupt]
  older:
    description:
      - Only messages that arrived longer ago than this (C(30m), C(2h), C(3d), C(1w), C(1h30m) ...).
    type: str
  younger:
    description:
      - Only messages that arrived less long ago than this.
    type: str
  reason:
    description:
      - Only messages with a recipient whose delay reason matches this regular expression (case-insensitive).
    type: str
  id:
    description:
      - Only these queue ids.
    type: list
    elements: str
  all:
    description:
      - With C(action=delete) and no message filter - delete every message of the selected instances (and queues).
    type: bool
    default: false
  parallel:
    description:
      - Instances in flight at once (postfleet's C(--parallel)); default is postfleet's.
    type: int
seealso:
  - module: postfleet.fleet.info
'''

EXAMPLES = r'''
- name: Where is the mail for example.com stuck
  postfleet.fleet.queue:
    recipient: ['@example.com']
    queue: [deferred]
  register: stuck

- name: Hold everything from a compromised sender, on every instance
  postfleet.fleet.queue:
    action: hold
    sender: [compromised@example.org]

- name: Delete a bad campaign (check mode shows the messages first)
  postfleet.fleet.queue:
    action: delete
    sender: ['newsletter@*']
    older: 1d
    group: mta
'''

RETURN = r'''
messages:
  description: With C(action=list) - the selected messages, in instance order, then by queue, arrival and id.
  returned: when action is list
  type: list
  elements: dict
  sample:
    - instance: postfix-out
      queue_name: deferred
      queue_id: 4BC2F1E3A
      arrival_time: 1796611676
      message_size: 266
      forced_expire: false
      sender: alice@example.org
      recipients:
        - address: bob@example.com
          delay_reason: 'connect to mx.example.com[192.0.2.1]:25: Connection refused'
instances:
  description:
    - With C(action=list) - per selected instance, how many messages were selected (or why its queues could not be read).
    - With an action - per selected instance, the queue ids acted on (C(ids)), those done (C(done)),
      those that had left the queue meanwhile (C(gone)), selected messages the action does not
      apply to (C(skipped), with the reason), the commands run, and their exit status.
  returned: always
  type: list
  elements: dict
problems:
  description: Files that could not be read or parsed, by path (the rest was read all the same).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import COMMON_ARGUMENT_SPEC, Postfleet, PostfleetFailure

QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold', 'corrupt']
MESSAGE_FILTERS = ('sender', 'recipient', 'older', 'younger', 'reason', 'id')


def arguments(p):
    """postfleet's selection and filter flags from the module's parameters."""
    args = []
    if p['name'] is not None:
        args += ['-i', p['name']]
    elif p['group'] is not None:
        args += ['-g', p['group']]
    for option, flag in (('sender', '--from'), ('recipient', '--to'), ('queue', '--queue'), ('id', '--id')):
        for value in p[option] or []:
            args += [flag, value]
    for option in ('older', 'younger', 'reason'):
        if p[option] is not None:
            args += ['--%s' % option, p[option]]
    return args


def main():
    argument_spec = dict(
        action=dict(type='str', default='list', choices=['list', 'hold', 'release', 'delete', 'requeue']),
        name=dict(type='str'),
        group=dict(type='str'),
        sender=dict(type='list', elements='str'),
        recipient=dict(type='list', elements='str'),
        queue=dict(type='list', elements='str', choices=QUEUES),
        older=dict(type='str'),
        younger=dict(type='str'),
        reason=dict(type='str'),
        id=dict(type='list', elements='str'),
        all=dict(type='bool', default=False),
        parallel=dict(type='int'),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('name', 'group')], supports_check_mode=True)
    p = module.params
    action = p['action']
    if p['parallel'] is not None and p['parallel'] < 1:
        module.fail_json(msg='parallel must be at least 1, not %d' % p['parallel'])
    if p['all'] and action != 'delete':
        module.fail_json(msg='all is for action=delete only')
    if action == 'delete' and not p['all'] and not any(p[f] for f in MESSAGE_FILTERS):
        module.fail_json(msg='action=delete without a message filter (%s) deletes every message of the selected instances: '
                             'set all=true to mean it' % ', '.join(MESSAGE_FILTERS))
    args = arguments(p)
    pf = Postfleet(module)
    try:
        if action == 'list':
            answer = pf.run('queue list', args, partial_ok=True) or {}
            module.exit_json(changed=False, messages=answer.get('messages') or [], instances=answer.get('instances') or [],
                             problems=answer.get('problems') or [])
        if action == 'delete' and p['all']:
            args.append('--all')
        if p['parallel'] is not None:
            args += ['--parallel', str(p['parallel'])]
        if module.check_mode:
            args.append('--dry-run')
        answer = pf.run('queue ' + action, args, partial_ok=True) or {}
    except PostfleetFailure as e:
        e.fail(module)
    instances = answer.get('instances') or []
    if module.check_mode:
        changed = any(i.get('ids') for i in instances)
    else:
        changed = bool(answer.get('changed'))
    result = dict(changed=changed, instances=instances, problems=answer.get('problems') or [])
    failed = [i for i in instances if i.get('exitCode') not in (None, 0)]
    if failed:
        module.fail_json(msg='; '.join('%s: postsuper exited with status %s%s' % (
            i.get('instance'), i.get('exitCode'), (': ' + i['output'].strip().splitlines()[-1]) if (i.get('output') or '').strip() else '')
            for i in failed), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
