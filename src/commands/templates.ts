import { PostfleetCommand } from '../cli/base.js';
import { templateDirFlag } from '../cli/lifecycle.js';
import { listTemplates, templateSearchPath } from '../instances/templates/load.js';

interface Row {
  name: string;
  description: string;
  variables: Record<string, string>;
  directory: string;
}

export default class Templates extends PostfleetCommand {
  static override summary = 'List the instance templates that create --template can use.';
  static override examples = ['<%= config.bin %> templates', '<%= config.bin %> templates --template-dir /etc/postfleet/templates --json'];
  static override enableJsonFlag = true;
  static override flags = {
    ...templateDirFlag,
  };

  async run(): Promise<Row[]> {
    const { flags } = await this.parse(Templates);
    const rows = listTemplates(templateSearchPath(flags['template-dir'])).map((t) => ({
      name: t.name,
      description: t.description,
      variables: Object.fromEntries(t.variables),
      directory: t.directory,
    }));
    if (!this.jsonEnabled()) {
      for (const r of rows) {
        this.log(`${r.name.padEnd(16)} ${r.description}`);
        for (const [v, what] of Object.entries(r.variables)) this.log(`${''.padEnd(16)}   --set ${v}=…  ${what}`);
      }
    }
    return rows;
  }
}
