# -*- coding: utf-8 -*-
# Unit tests of the modules' pure parts: which masters the postfix module acts on, how info
# merges list and status, how instance finds its status row, the queue module's postfleet flags.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import unittest

from ansible_collections.postfleet.fleet.plugins.modules import info, instance, postfix, queue


def row(d, enabled=True, running=False, pid=None, name=None):
    return dict(instance=name or d, name=name, configDirectory=d, enabled=enabled, running=running, pid=pid)


class PostfixPlan(unittest.TestCase):
    rows = [
        row('/etc/postfix-a', running=True, pid=10),
        row('/etc/postfix-b'),
        row('/etc/postfix-c', enabled=False, running=True, pid=30),
        row('/etc/postfix-d', enabled=False),
    ]

    def test_started_starts_enabled_stopped_masters_only(self):
        self.assertEqual(postfix.plan('started', self.rows), {'/etc/postfix-b': ['start']})

    def test_stopped_stops_enabled_running_masters_only(self):
        self.assertEqual(postfix.plan('stopped', self.rows), {'/etc/postfix-a': ['stop']})

    def test_reloaded_reloads_running_enabled_masters(self):
        self.assertEqual(postfix.plan('reloaded', self.rows), {'/etc/postfix-a': ['reload']})

    def test_restarted_stops_what_runs_and_starts_every_enabled_one(self):
        self.assertEqual(postfix.plan('restarted', self.rows), {'/etc/postfix-a': ['stop', 'start'], '/etc/postfix-b': ['start']})

    def test_nothing_to_do(self):
        self.assertEqual(postfix.plan('started', [row('/etc/postfix-a', running=True, pid=1)]), {})
        self.assertEqual(postfix.plan('stopped', [row('/etc/postfix-a')]), {})
        self.assertEqual(postfix.plan('started', []), {})

    def test_a_rollout_selects_the_instances_that_need_it(self):
        # Every enabled instance needs it: the module's own selection, whole.
        self.assertEqual(postfix.rolling_selection(['-g', 'mta'], self.rows, postfix.plan('restarted', self.rows)), ['-g', 'mta'])
        # Only some: each by its directory, in list order.
        self.assertEqual(postfix.rolling_selection(['-g', 'mta'], self.rows, postfix.plan('started', self.rows)), ['-i', '/etc/postfix-b'])
        self.assertIsNone(postfix.rolling_selection([], self.rows, {}))


class InfoMerge(unittest.TestCase):
    def test_status_laid_over_list_by_config_directory(self):
        listed = [dict(name=None, configDirectory='/etc/postfix', primary=True, dataDirectory='/var/lib/postfix'),
                  dict(configDirectory='/etc/postfix-x', primary=False, error='main.cf: unreadable')]
        status = [dict(instance='/etc/postfix', configDirectory='/etc/postfix', running=True, pid=7)]
        self.assertEqual(info.merge(listed, status), [
            dict(name=None, configDirectory='/etc/postfix', primary=True, dataDirectory='/var/lib/postfix', instance='/etc/postfix', running=True, pid=7),
            dict(configDirectory='/etc/postfix-x', primary=False, error='main.cf: unreadable'),
        ])
        self.assertEqual(info.merge(None, None), [])


class InstanceStatus(unittest.TestCase):
    rows = [row('/etc/postfix'), row('/etc/postfix-out', name='postfix-out'), row('/etc/out', name='out')]

    def test_by_name_as_postfleet_selects(self):
        self.assertEqual(instance.find_status(self.rows, 'postfix-out')['configDirectory'], '/etc/postfix-out')
        # 'out' names both postfix-out (without its prefix) and out: the first in list order, as postfleet's -i.
        self.assertEqual(instance.find_status(self.rows, 'out')['configDirectory'], '/etc/postfix-out')
        self.assertEqual(instance.find_status(self.rows[2:], 'out')['configDirectory'], '/etc/out')
        self.assertEqual(instance.find_status(self.rows, '/etc/out')['configDirectory'], '/etc/out')
        # A nameless instance only by its directory.
        self.assertEqual(instance.find_status(self.rows, '/etc/postfix')['configDirectory'], '/etc/postfix')
        self.assertIsNone(instance.find_status(self.rows, 'postfix'))
        self.assertIsNone(instance.find_status(self.rows, 'postfix-in'))
        self.assertIsNone(instance.find_status(None, 'postfix-in'))

    def test_queued_counts_every_queue_and_skips_unreadable_ones(self):
        self.assertEqual(instance.queued(dict(queues=dict(incoming=1, active=0, deferred=2, hold=None, maildrop=3, corrupt=0))), 6)
        self.assertEqual(instance.queued(dict(queues=None)), 0)


class FakePostfleet(object):
    """Records the postfleet commands a module part runs, answering each with an empty change."""

    def __init__(self):
        self.calls = []

    def run(self, command, args=(), data=None, partial_ok=False):
        self.calls.append((command, list(args), data))
        return dict(changed=False, instances=[])


class InstanceRemoval(unittest.TestCase):
    def test_absent_and_deported_go_through_apply_with_a_one_section_manifest(self):
        pf = FakePostfleet()
        instance.remove(pf, row('/etc/postfix-out', name='postfix-out'), 'absent', [])
        instance.remove(pf, row('/etc/postfix-out', name='postfix-out'), 'deported', ['--dry-run'])
        self.assertEqual(pf.calls, [
            ('apply', ['-'], '[postfix-out]\nstate = "absent"\n'),
            ('apply', ['-', '--dry-run'], '[postfix-out]\nstate = "deported"\n'),
        ])

    def test_a_nameless_instance_by_its_directory(self):
        pf = FakePostfleet()
        instance.remove(pf, row('/srv/anon'), 'absent', ['--dry-run'])
        instance.remove(pf, row('/srv/anon'), 'deported', [])
        self.assertEqual(pf.calls, [('destroy', ['/srv/anon', '--dry-run'], None), ('deport', ['/srv/anon'], None)])


if __name__ == '__main__':
    unittest.main()


class QueueArguments(unittest.TestCase):
    none = dict(name=None, group=None, sender=None, recipient=None, queue=None, older=None, younger=None, reason=None, id=None)

    def test_selection_and_filters_as_postfleet_flags(self):
        p = dict(self.none, group='mta', sender=['a@x', '@y'], recipient=['*@z'], queue=['deferred', 'hold'],
                 older='2h', reason='timed out', id=['ABCDEF1'])
        self.assertEqual(queue.arguments(p), ['-g', 'mta', '--from', 'a@x', '--from', '@y', '--to', '*@z',
                                              '--queue', 'deferred', '--queue', 'hold', '--id', 'ABCDEF1',
                                              '--older', '2h', '--reason', 'timed out'])

    def test_nothing_selects_everything(self):
        self.assertEqual(queue.arguments(self.none), [])
        self.assertEqual(queue.arguments(dict(self.none, name='-')), ['-i', '-'])
