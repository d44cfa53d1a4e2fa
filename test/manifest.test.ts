import { describe, expect, it } from 'vitest';
import { parseManifest } from '../src/instances/lifecycle/manifest.js';

describe('parseManifest', () => {
  it('reads one section per instance, dots in names included', () => {
    const m = parseManifest(
      '; fleet\n[postfix-a.b]\ngroup = mta\nenabled = YES\ntemplate = null-client\nset.relayhost = [r.example]:587 ; note\nqueue_directory = /var/spool/pa/\n\n[postfix-c]\nenabled = no\n',
      'fleet.ini',
    );
    expect(m).toEqual([
      {
        name: 'postfix-a.b',
        state: 'present',
        group: 'mta',
        enabled: true,
        template: 'null-client',
        settings: [['relayhost', '[r.example]:587']],
        paths: { queue_directory: '/var/spool/pa' },
      },
      { name: 'postfix-c', state: 'present', group: undefined, enabled: false, template: undefined, settings: [], paths: {} },
    ]);
  });
  it('reads true, false and null as the text they are, quoted or not', () => {
    const [m] = parseManifest('[postfix-a]\nset.x_flag = true\nset.y_flag = "false"\nset.z_value = null\n', 'fleet.ini');
    expect(m!.settings).toEqual([
      ['x_flag', 'true'],
      ['y_flag', 'false'],
      ['z_value', 'null'],
    ]);
  });
  it('reads state: present (the default), absent, deported', () => {
    const m = parseManifest('[postfix-a]\nstate = absent\n[postfix-b]\nstate = "deported"\n[postfix-c]\nstate = present\ngroup = g\n[postfix-d]\n', 'fleet.ini');
    expect(m.map((i) => [i.name, i.state])).toEqual([
      ['postfix-a', 'absent'],
      ['postfix-b', 'deported'],
      ['postfix-c', 'present'],
      ['postfix-d', 'present'],
    ]);
  });
  const bad: Array<[string, RegExp]> = [
    ['[postfix-a]\nstate = gone\n', /fleet.ini \[postfix-a\]: state must be present, absent or deported, not 'gone'/],
    ['[postfix-a]\nstate = Absent\n', /state must be present, absent or deported, not 'Absent'/],
    ['[postfix-a]\nstate = absent\ngroup = mta\nset.relayhost = x\n', /fleet.ini \[postfix-a\]: state = absent takes no other key \(got group, set.relayhost\)/],
    ['[postfix-a]\nstate = deported\nenabled = no\n', /state = deported takes no other key \(got enabled\)/],
    ['[postfix-a]\nbogus = 1\n', /fleet.ini \[postfix-a\]: unknown key 'bogus'/],
    ['[postfix-a]\n[postfix-a]\n', /fleet.ini, line 2: duplicate instance \[postfix-a\]/],
    ['[postfix-a]\ngroup = x\ngroup = y\n', /line 3: duplicate key 'group' in \[postfix-a\]/],
    ['group = x\n', /line 1: setting outside an \[instance\] section: 'group = x'/],
    ['[a]\n', /New instance name must start with 'postfix-': 'a'/],
    ['[postfix-a]\nenabled = maybe\n', /enabled must be yes or no, not 'maybe'/],
    ['[postfix-a]\nconfig_directory = etc/x\n', /not an absolute path: 'etc\/x'/],
    ['[postfix-a]\nset.bad$name = 1\n', /bad parameter name in 'set.bad\$name'/],
    ['[postfix-a]\njunk\n', /line 2: expected key = value: 'junk'/],
    ['[postfix-a]\nset.queue_directory = /var/spool/postfix\n', /'set.queue_directory' is not allowed: use the queue_directory key/],
    ['[postfix-a]\nset.multi_instance_enable = yes\n', /'set.multi_instance_enable' is not allowed: use the enabled key/],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      expect(() => parseManifest(text, 'fleet.ini')).toThrow(message);
    });
  }
});
