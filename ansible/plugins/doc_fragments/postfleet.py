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
