/** Rows of an instance listing, and postmulti's two renderings of them. Pure. */
import type { Instance } from './instance.js';

export interface ListRow {
  readonly name: string | null;
  readonly group: string | null;
  readonly enabled: boolean;
  readonly configDirectory: string;
  readonly queueDirectory: string;
  readonly dataDirectory: string;
  readonly primary: boolean;
}

export function listRow(i: Instance): ListRow {
  return {
    name: i.name ?? null,
    group: i.group ?? null,
    enabled: i.enabled,
    configDirectory: i.configDirectory,
    queueDirectory: i.queueDirectory,
    dataDirectory: i.dataDirectory,
    primary: i.primary,
  };
}

/** postmulti -l: `%-15s %-15s %-9s %s`. */
export function formatPostmultiRow(i: Instance): string {
  return `${(i.name ?? '-').padEnd(15)} ${(i.group ?? '-').padEnd(15)} ${(i.enabled ? 'y' : 'n').padEnd(9)} ${i.configDirectory}\n`;
}

const jsonString = (s: string): string => JSON.stringify(s);

/** postmulti -j (3.11): one object per line, members in this order and spacing. */
export function formatPostmultiJson(i: Instance): string {
  return (
    `{"name": ${jsonString(i.name ?? '-')},` +
    `"group": ${jsonString(i.group ?? '-')},` +
    `"enabled": ${jsonString(i.enabled ? 'y' : 'n')},` +
    `"config_directory": ${jsonString(i.configDirectory)}}\n`
  );
}
