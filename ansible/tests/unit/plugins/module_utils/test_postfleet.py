# -*- coding: utf-8 -*-
# Unit tests of module_utils/postfleet.py (stdlib unittest; run by test/ansible-collection.test.ts
# with the collection on sys.path as ansible_collections.postfleet.fleet).
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import unittest

from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import (
    ManifestError, ansible_diff, carried_diff, error_lines, manifest_section, manifest_text, merge_results, one_line,
    rolling_args, rolling_error, rollout_failure, warning_lines,
)


class ManifestSection(unittest.TestCase):
    def test_keys_in_fixed_order_values_quoted(self):
        text = manifest_section('postfix-out', dict(settings=dict(relayhost='[r.example]:587'), enabled=True, group='mta',
                                                    template='null-client', config_directory='/srv/out/etc'))
        self.assertEqual(text, '[postfix-out]\n'
                               'group = "mta"\n'
                               'enabled = "yes"\n'
                               'template = "null-client"\n'
                               'config_directory = "/srv/out/etc"\n'
                               'set.relayhost = "[r.example]:587"\n')

    def test_omitted_keys_are_left_out(self):
        self.assertEqual(manifest_section('postfix-a', dict(group=None, enabled=None, settings=None)), '[postfix-a]\n')
        self.assertEqual(manifest_section('postfix-a', None), '[postfix-a]\n')

    def test_value_kinds(self):
        text = manifest_section('postfix-a', dict(settings=dict(a=False, b=25, c=['127.0.0.0/8', '[::1]/128'], d='', e=None)))
        self.assertIn('set.a = "no"\n', text)
        self.assertIn('set.b = "25"\n', text)
        self.assertIn('set.c = "127.0.0.0/8, [::1]/128"\n', text)
        self.assertIn('set.d = ""\n', text)
        self.assertIn('set.e = ""\n', text)

    def test_refuses_what_would_break_the_manifest(self):
        bad = [
            ('postfix-a\n[postfix-b]', {}),
            ('postfix-a]', {}),
            ('', {}),
            ('postfix-a', dict(settings={'x\ny': '1'})),
            ('postfix-a', dict(settings={'x = y': '1'})),
            ('postfix-a', dict(settings=dict(x='one\ntwo'))),
            ('postfix-a', dict(settings=dict(x=dict(y=1)))),
            ('postfix-a', dict(settings=dict(x=[['nested']]))),
            ('postfix-a', dict(settings='relayhost=x')),
            ('postfix-a', dict(enabled='yes')),
            ('postfix-a', dict(bogus=1)),
            ('postfix-a', 'group=mta'),
        ]
        for name, spec in bad:
            with self.assertRaises(ManifestError, msg=repr((name, spec))):
                manifest_section(name, spec)

    def test_state_passed_through(self):
        self.assertEqual(manifest_section('postfix-old', dict(state='absent')), '[postfix-old]\nstate = "absent"\n')
        self.assertEqual(manifest_section('postfix-x', dict(state='deported', group=None)), '[postfix-x]\nstate = "deported"\n')
        self.assertEqual(manifest_section('postfix-n', dict(state='present', group='g')), '[postfix-n]\nstate = "present"\ngroup = "g"\n')
        with self.assertRaisesRegex(ManifestError, "instance postfix-a: state must be present, absent, deported, not 'gone'"):
            manifest_section('postfix-a', dict(state='gone'))

    def test_unknown_key_is_named(self):
        with self.assertRaisesRegex(ManifestError, "unknown key 'setting'"):
            manifest_section('postfix-a', dict(setting={}))

    def test_manifest_keeps_order_and_refuses_duplicates(self):
        text = manifest_text([('postfix-b', {}), ('postfix-a', dict(group='g'))])
        self.assertEqual(text, '[postfix-b]\n\n[postfix-a]\ngroup = "g"\n')
        with self.assertRaisesRegex(ManifestError, 'postfix-a appears twice'):
            manifest_text([('postfix-a', {}), ('postfix-a', {})])


class Answers(unittest.TestCase):
    def test_diff_in_ansible_form(self):
        unified = '--- /etc/postfix-a/main.cf\n+++ /etc/postfix-a/main.cf\n@@ -1 +1 @@\n-x = 1\n+x = 2\n'
        created = '--- /dev/null\n+++ /etc/postfix-b/main.cf\n@@ -0,0 +1 @@\n+x = 1\n'
        answer = dict(diff=[dict(path='/etc/postfix-a/main.cf', unified=unified), dict(path='/etc/postfix-b/main.cf', unified=created)])
        self.assertEqual(ansible_diff(answer), [
            dict(prepared='--- before: /etc/postfix-a/main.cf\n+++ after: /etc/postfix-a/main.cf\n@@ -1 +1 @@\n-x = 1\n+x = 2\n\n'),
            dict(prepared='--- before: /dev/null\n+++ after: /etc/postfix-b/main.cf\n@@ -0,0 +1 @@\n+x = 1\n\n'),
        ])
        self.assertEqual(ansible_diff(None), [])
        self.assertEqual(ansible_diff(dict(changed=False)), [])

    def test_merge(self):
        merged = merge_results([dict(changed=False, instances=[1], diff=[], warnings=['w']),
                                None, dict(changed=True, instances=[2], diff=['d'], failed=[])])
        self.assertEqual(merged, dict(changed=True, instances=[1, 2], diff=['d'], warnings=['w'], failed=[]))

    def test_stderr_lines(self):
        err = 'postfleet: warning: left /etc/postfix-a/extra in place\npostfleet: Instance postfix-a is enabled\n'
        self.assertEqual(warning_lines(err), ['left /etc/postfix-a/extra in place'])
        self.assertEqual(error_lines(err), ['postfleet: Instance postfix-a is enabled'])
        self.assertEqual(one_line(err, 'default'), 'postfleet: Instance postfix-a is enabled')
        self.assertEqual(one_line('', 'default'), 'default')



class Rolling(unittest.TestCase):
    def test_flags_pass_through_as_given(self):
        self.assertEqual(rolling_args(dict(rolling=False, batch='2')), [])
        self.assertEqual(rolling_args(dict(rolling=True)), ['--rolling'])
        self.assertEqual(rolling_args(dict(rolling=True, batch='25%', pause='30s', max_failed=0, probe_timeout='5s', probe_rcpt='none')),
                         ['--rolling', '--batch', '25%', '--pause', '30s', '--max-failed', '0', '--probe-timeout', '5s', '--probe-rcpt', 'none'])

    def test_bad_values_refused_before_postfleet_runs(self):
        self.assertIsNone(rolling_error(dict(rolling=True, batch='100%', pause='1.5', probe_timeout='500ms', max_failed=2)))
        self.assertIsNone(rolling_error(dict(rolling=False)))
        self.assertEqual(rolling_error(dict(rolling=False, batch='2')), 'batch is a roll-out option: set rolling: true too')
        self.assertEqual(rolling_error(dict(rolling=False, max_failed=0)), 'max_failed is a roll-out option: set rolling: true too')
        for batch in ('0', '0%', '101%', 'two', '-1'):
            self.assertIn("bad batch '%s'" % batch, rolling_error(dict(rolling=True, batch=batch)))
        self.assertIn("bad pause '10x'", rolling_error(dict(rolling=True, pause='10x')))
        self.assertIn("bad probe_timeout 'soon'", rolling_error(dict(rolling=True, probe_timeout='soon')))
        self.assertEqual(rolling_error(dict(rolling=True, max_failed=-1)), 'max_failed must be 0 or more, not -1')

    def test_a_report_fails_the_task_when_it_stopped_or_an_instance_failed(self):
        self.assertIsNone(rollout_failure(None))
        self.assertIsNone(rollout_failure(dict(changed=True, instances=[])))
        done = dict(batches=2, stopped=None, instances=[dict(instance='postfix-a', outcome='done')])
        self.assertIsNone(rollout_failure(done))
        stopped = dict(batches=4, stopped=dict(batch=1, reason='1 of 1 instance of batch 1 failed: postfix-a'), instances=[])
        self.assertEqual(rollout_failure(stopped), 'roll-out stopped at batch 1 of 4: 1 of 1 instance of batch 1 failed: postfix-a')
        tolerated = dict(batches=2, stopped=None, instances=[dict(instance='postfix-b', outcome='rolled back', error='probe: 451 4.3.5')])
        self.assertEqual(rollout_failure(tolerated), 'postfix-b: probe: 451 4.3.5')

    def test_the_diff_of_what_a_rollout_left_changed(self):
        planned = dict(instances=[dict(configDirectory='/etc/postfix-a'), dict(configDirectory='/etc/postfix-b')],
                       diff=[dict(path=p, unified='--- %s\n+++ %s\n@@ -1 +1 @@\n-x\n+X' % (p, p))
                             for p in ('/etc/postfix-a/main.cf', '/etc/postfix-b/main.cf', '/etc/postfix/main.cf')])
        report = dict(instances=[dict(configDirectory='/etc/postfix-a', carriesChange=True), dict(configDirectory='/etc/postfix-b', carriesChange=False)])
        self.assertEqual([d['prepared'].split('\n')[0] for d in carried_diff(planned, report)], ['--- before: /etc/postfix-a/main.cf', '--- before: /etc/postfix/main.cf'])
        report['instances'][0]['carriesChange'] = False
        self.assertEqual(carried_diff(planned, report), [])


if __name__ == '__main__':
    unittest.main()
