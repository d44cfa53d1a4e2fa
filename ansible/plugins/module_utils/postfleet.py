# -*- coding: utf-8 -*-
# What the postfleet.fleet modules share: running postfleet with --json, reading its answer
# (see JSON-CONTRACT: one object with changed, dryRun, instances, diff, warnings, failed; diff holds
# each main.cf's change as `diff -u` prints it),
# and writing the INI manifest that `postfleet apply -` reads.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible.module_utils.six import string_types

# Options of the doc fragment postfleet.fleet.postfleet.
COMMON_ARGUMENT_SPEC = dict(
    primary_config_dir=dict(type='path'),
    executable=dict(type='path'),
)

# The roll-out options (doc fragment postfleet.fleet.postfleet.rolling) and their postfleet flags.
ROLLING_ARGUMENT_SPEC = dict(
    rolling=dict(type='bool', default=False),
    batch=dict(type='str'),
    pause=dict(type='str'),
    max_failed=dict(type='int'),
    probe_timeout=dict(type='str'),
    probe_rcpt=dict(type='str'),
)
_ROLLING_FLAGS = (('batch', '--batch'), ('pause', '--pause'), ('max_failed', '--max-failed'),
                  ('probe_timeout', '--probe-timeout'), ('probe_rcpt', '--probe-rcpt'))
_BATCH = re.compile(r'^([0-9]+)(%?)$')
_DURATION = re.compile(r'^[0-9]+(\.[0-9]+)?(ms|s|m|h)?$')


def rolling_error(params):
    """Why the roll-out options cannot be used as given (postfleet's own rules, checked before it runs, check mode included), or None."""
    given = [name for name, _ in _ROLLING_FLAGS if params.get(name) is not None]
    if not params.get('rolling'):
        return '%s is a roll-out option: set rolling: true too' % given[0] if given else None
    batch = params.get('batch')
    if batch is not None:
        m = _BATCH.match(batch.strip())
        if not m or int(m.group(1)) < 1 or (m.group(2) and int(m.group(1)) > 100):
            return "bad batch '%s': give a number of instances (1 or more) or a percentage (1%% to 100%%)" % batch
    for name in ('pause', 'probe_timeout'):
        value = params.get(name)
        if value is not None and not _DURATION.match(value.strip()):
            return "bad %s '%s': give a duration such as 500ms, 10s, 2m or 1h" % (name, value)
    if params.get('max_failed') is not None and params['max_failed'] < 0:
        return 'max_failed must be 0 or more, not %d' % params['max_failed']
    return None


def rolling_args(params):
    """postfleet's --rolling and its settings, as given (none without rolling)."""
    if not params.get('rolling'):
        return []
    args = ['--rolling']
    for name, flag in _ROLLING_FLAGS:
        if params.get(name) is not None:
            args += [flag, str(params[name])]
    return args


def rollout_failure(report):
    """Why a roll-out report fails the task (it stopped, or an instance failed), in one line; None when it did not."""
    if not isinstance(report, dict) or 'batches' not in report:
        return None
    if report.get('stopped'):
        return 'roll-out stopped at batch %s of %s: %s' % (report['stopped'].get('batch'), report.get('batches'), report['stopped'].get('reason'))
    failed = [i for i in report.get('instances') or [] if i.get('outcome') in ('failed', 'rolled back')]
    if failed:
        return '; '.join('%s: %s' % (i.get('instance'), i.get('error') or i.get('outcome')) for i in failed)
    return None


# Keys of one instance in a manifest (the manifest module's content, the instance module's options).
PATH_KEYS = ('config_directory', 'queue_directory', 'data_directory')
INSTANCE_KEYS = ('state', 'group', 'enabled', 'template', 'settings') + PATH_KEYS
# A manifest section's state: present (created, brought in line), absent (destroyed), deported.
STATES = ('present', 'absent', 'deported')


class PostfleetFailure(Exception):
    """postfleet failed: msg is its one-line message; result what it printed on stdout, if any."""

    def __init__(self, msg, rc=None, cmd=None, stdout='', stderr='', result=None):
        super(PostfleetFailure, self).__init__(msg)
        self.msg = msg
        self.rc = rc
        self.cmd = cmd
        self.stdout = stdout
        self.stderr = stderr
        self.result = result

    def fail(self, module, **extra):
        details = dict(rc=self.rc, cmd=self.cmd, stdout=self.stdout, stderr=self.stderr)
        if isinstance(self.result, dict):
            # Instances reported and skipped: the others were changed all the same.
            details.update(changed=bool(self.result.get('changed')), instances=self.result.get('instances') or [],
                           failures=self.result.get('failed') or [])
        details.update(extra)
        module.fail_json(msg=self.msg, **details)


def error_lines(stderr):
    """postfleet's messages on stderr, without its warnings."""
    return [l for l in stderr.splitlines() if l.strip() and not l.startswith('postfleet: warning: ')]


def warning_lines(stderr):
    return [l[len('postfleet: warning: '):] for l in stderr.splitlines() if l.startswith('postfleet: warning: ')]


def one_line(stderr, default):
    lines = error_lines(stderr)
    return lines[-1] if lines else default


class Postfleet(object):
    """Runs postfleet on the managed host for one module invocation."""

    def __init__(self, module):
        self.module = module
        exe = module.params.get('executable')
        self.bin = exe if exe else module.get_bin_path('postfleet', required=True)
        self.config_dir = module.params.get('primary_config_dir')

    def argv(self, command, args):
        """postfleet COMMAND --json [--config-dir DIR] ARGS: the flags go before ARGS, which may hold '--'.
        COMMAND may be a topic and its command ('queue list')."""
        cmd = [self.bin] + command.split(' ') + ['--json']
        if self.config_dir:
            cmd += ['--config-dir', self.config_dir]
        return cmd + list(args)

    def run(self, command, args=(), data=None, partial_ok=False):
        """Runs `postfleet COMMAND --json ARGS` and returns its parsed answer.

        On a non-zero exit: with partial_ok and a JSON answer on stdout (read-only commands
        report broken instances and go on; exit 1), returns the answer and the errors are
        passed on as warnings; else raises PostfleetFailure with postfleet's one-line message.
        """
        cmd = self.argv(command, args)
        rc, out, err = self.module.run_command(cmd, data=data, binary_data=True, environ_update=dict(LC_ALL='C'))
        parsed = None
        if out.strip():
            try:
                parsed = json.loads(out)
            except ValueError:
                if rc == 0:
                    raise PostfleetFailure('postfleet printed something that is not JSON: %s' % out.strip()[:200],
                                           rc=rc, cmd=cmd, stdout=out, stderr=err)
        # A changing command's answer carries its warnings (module_result passes them on);
        # a read-only one's are only on stderr.
        if not (isinstance(parsed, dict) and 'warnings' in parsed):
            for w in warning_lines(err):
                self.module.warn(w)
        if rc != 0:
            if partial_ok and parsed is not None:
                for line in error_lines(err):
                    self.module.warn(line)
                return parsed
            default = 'postfleet exited with status %d' % rc
            if isinstance(parsed, dict) and parsed.get('failed'):
                default = '; '.join(f.get('error', '') for f in parsed['failed'])
            raise PostfleetFailure(one_line(err, default), rc=rc, cmd=cmd, stdout=out, stderr=err, result=parsed)
        return parsed


def ansible_diff(result):
    """The contract's diff (every main.cf changed, as `diff -u` prints it) in Ansible's form: a
    prepared diff per file, headed as Ansible heads a before/after one ("--- before: PATH")."""
    diffs = []
    for d in (result or {}).get('diff') or []:
        text = d.get('unified') or ''
        head = text.split('\n', 2)
        if len(head) == 3 and head[0].startswith('--- ') and head[1].startswith('+++ '):
            text = '--- before: %s\n+++ after: %s\n%s' % (head[0][4:], head[1][4:], head[2])
        if text:
            diffs.append(dict(prepared=text + '\n'))
    return diffs


def carried_diff(planned, report):
    """A dry run's diff (Ansible's form) of what a roll-out left changed: each instance's main.cf
    where it carries the change, and any other file (the primary's list of instances) when one does."""
    carried = set(i.get('configDirectory') for i in (report or {}).get('instances') or [] if i.get('carriesChange'))
    own = set('%s/main.cf' % i.get('configDirectory') for i in (planned or {}).get('instances') or [])
    kept = [d for d in (planned or {}).get('diff') or []
            if d.get('path', '').rsplit('/', 1)[0] in carried or (carried and d.get('path') not in own)]
    return ansible_diff(dict(diff=kept))


def merge_results(results):
    """Several changing commands' answers (force: disable, then destroy) as one."""
    merged = dict(changed=False, instances=[], diff=[], warnings=[], failed=[])
    for r in results:
        if not r:
            continue
        merged['changed'] = merged['changed'] or bool(r.get('changed'))
        for key in ('instances', 'diff', 'warnings', 'failed'):
            merged[key].extend(r.get(key) or [])
    return merged


def module_result(module, answer, **extra):
    """What a changing module returns from postfleet's answer."""
    answer = answer or {}
    for w in answer.get('warnings') or []:
        module.warn(w)
    result = dict(changed=bool(answer.get('changed')), instances=answer.get('instances') or [])
    result.update(extra)
    if module._diff:
        result['diff'] = ansible_diff(answer)
    return result


# ------------------------------------------------------------------------- the INI manifest

_SAFE_NAME = re.compile(r'^[^\s\[\]=;#"\']+$')


class ManifestError(ValueError):
    pass


def manifest_value(value, what):
    """A value as the manifest writes it: quoted, so that ';', '#', quotes and white space
    at either end survive postfleet's INI reader (which JSON-decodes a double-quoted value)."""
    if isinstance(value, bool):
        text = 'yes' if value else 'no'
    elif isinstance(value, (int, float)):
        text = str(value)
    elif isinstance(value, (list, tuple)):
        text = ', '.join(manifest_value_text(v, what) for v in value)
    elif value is None:
        text = ''
    elif isinstance(value, dict):
        raise ManifestError('%s: a main.cf value cannot be a dictionary' % what)
    else:
        text = manifest_value_text(value, what)
    if '\n' in text or '\r' in text or '\0' in text:
        raise ManifestError('%s: a main.cf value must be one line, not %r' % (what, text))
    return json.dumps(text)


def manifest_value_text(value, what):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (dict, list, tuple)):
        raise ManifestError('%s: a list item must be a single value, not %r' % (what, value))
    return '%s' % (value,)


def manifest_section(name, spec):
    """One [instance] section of an INI manifest from a dict with INSTANCE_KEYS (None: leave as is)."""
    if not isinstance(name, string_types) or not _SAFE_NAME.match(name):
        raise ManifestError('bad instance name %r' % (name,))
    spec = spec or {}
    if not isinstance(spec, dict):
        raise ManifestError('instance %s: expected a dictionary of %s, got %r' % (name, ', '.join(INSTANCE_KEYS), spec))
    unknown = [k for k in spec if k not in INSTANCE_KEYS]
    if unknown:
        raise ManifestError('instance %s: unknown key %r (known: %s)' % (name, unknown[0], ', '.join(INSTANCE_KEYS)))
    state = spec.get('state')
    if state is not None and state not in STATES:
        raise ManifestError('instance %s: state must be %s, not %r' % (name, ', '.join(STATES), state))
    lines = ['[%s]' % name]
    for key in ('state', 'group', 'enabled', 'template') + PATH_KEYS:
        value = spec.get(key)
        if value is None:
            continue
        if key == 'enabled' and not isinstance(value, bool):
            raise ManifestError('instance %s: enabled must be true or false, not %r' % (name, value))
        lines.append('%s = %s' % (key, manifest_value(value, '%s: %s' % (name, key))))
    settings = spec.get('settings') or {}
    if not isinstance(settings, dict):
        raise ManifestError('instance %s: settings must be a dictionary of main.cf parameters, not %r' % (name, settings))
    for param, value in settings.items():
        if not isinstance(param, string_types) or not _SAFE_NAME.match(param):
            raise ManifestError('instance %s: bad parameter name %r' % (name, param))
        lines.append('set.%s = %s' % (param, manifest_value(value, '%s: %s' % (name, param))))
    return '\n'.join(lines) + '\n'


def manifest_text(instances):
    """An INI manifest from (name, spec) pairs, in order."""
    names = [n for n, _ in instances]
    for n in names:
        if names.count(n) > 1:
            raise ManifestError('instance %s appears twice' % n)
    return '\n'.join(manifest_section(n, s) for n, s in instances)
