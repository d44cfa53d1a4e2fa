import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, renderReport } from '../cli/lifecycle.js';
import * as lifecycle from '../instances/lifecycle/actions.js';
import { wrapperCommand } from '../instances/lifecycle/wrapper.js';

export default class Init extends PostfleetCommand {
  static override summary = 'Hook postfleet into the primary instance: set multi_instance_wrapper and multi_instance_enable = yes.';
  static override description =
    'After this, plain "postfix start", "postfix stop", "postfix reload" … manage every enabled instance through postfleet, as with "postmulti -e init".';
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --dry-run'];
  static override enableJsonFlag = true;
  static override flags = { ...dryRunFlag, ...configDirFlag };

  async run(): Promise<lifecycle.ChangeAnswer> {
    const { flags } = await this.parse(Init);
    const report = await lifecycle.init(lifecycleContext(flags), wrapperCommand());
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l), flags['config-dir']);
  }
}
