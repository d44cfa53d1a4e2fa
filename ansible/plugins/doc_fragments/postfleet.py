# -*- coding: utf-8 -*-
# Options every postfleet.fleet module shares: which postfleet to run, and which primary.
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  primary_config_dir:
    description:
      - Configuration directory of the primary Postfix instance, passed to postfleet as C(-c DIR).
      - Default is postfleet's, that is C(postconf -d config_directory) (on Debian C(/etc/postfix)).
    type: path
  executable:
    description:
      - Path of the postfleet program on the managed host.
      - Default is C(postfleet) found on the managed host's C(PATH).
    type: path
requirements:
  - postfleet on the managed host (it runs Postfix's own programs there)
notes:
  - The module is a thin layer over C(postfleet ... --json); it runs postfleet with argument
    vectors, never through a shell.
  - A failure of postfleet fails the task with postfleet's one-line message as C(msg).
'''

    # postfleet.fleet.postfleet.rolling: the roll-out options of the postfix and manifest modules.
    ROLLING = r'''
options:
  rolling:
    description:
      - Roll the change out batch by batch (postfleet's C(--rolling)) - each batch changed,
        reloaded (or restarted, started) and health-probed before the next; the first failure
        past I(max_failed) stops it, and a configuration change of the failed batch is undone
        and reloaded back. Instances not reached are not touched.
      - The probe - the master runs; each inet service of master.cf accepts a connection on the
        instance's own address; smtpd and postscreen greet 220, answer EHLO 250 and answer
        C(MAIL FROM:<>) and C(RCPT TO:<postmaster@$myhostname>) without a 4.3.x (server
        configuration or lookup) failure; wrapper-mode TLS completes its handshake. Nothing is
        delivered.
    type: bool
    default: false
  batch:
    description:
      - With I(rolling) - instances per batch, a number or a percentage (C(25%)). postfleet's default is 1.
    type: str
  pause:
    description:
      - With I(rolling) - wait this long between batches (C(500ms), C(30s), C(2m), C(1h); a bare number is seconds).
    type: str
  max_failed:
    description:
      - With I(rolling) - failed instances tolerated before the roll-out stops; postfleet's default is 0.
    type: int
  probe_timeout:
    description:
      - With I(rolling) - time limit of each probe; postfleet's default is C(10s).
    type: str
  probe_rcpt:
    description:
      - With I(rolling) - the probe's C(RCPT TO) address instead of C(postmaster@$myhostname); C(none) stops the probe after EHLO.
    type: str
'''
