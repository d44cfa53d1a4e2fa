/** TCP port names, as master(8) resolves a service field's port (getservbyname via /etc/services). */
import { readFileSync } from 'node:fs';

export function readTcpPorts(path = '/etc/services'): Map<string, number> {
  const ports = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return ports;
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/tcp$/.exec(words[1] ?? '');
    if (!m || words[0] === undefined || words[0] === '') continue;
    for (const name of [words[0], ...words.slice(2)]) if (!ports.has(name)) ports.set(name, Number(m[1]));
  }
  return ports;
}
