/** $meta_directory/postfix-files and its drop-ins in postfix-files.d, as one text (permissions.ts parses it). */
import { readdirSync, readFileSync } from 'node:fs';

export function readPostfixFiles(metaDirectory: string): string {
  let text = readFileSync(`${metaDirectory}/postfix-files`, 'utf8');
  let extra: string[] = [];
  try {
    extra = readdirSync(`${metaDirectory}/postfix-files.d`).filter((f) => !f.startsWith('.')).sort();
  } catch {
    // no drop-in directory
  }
  for (const f of extra) text += '\n' + readFileSync(`${metaDirectory}/postfix-files.d/${f}`, 'utf8');
  return text;
}
