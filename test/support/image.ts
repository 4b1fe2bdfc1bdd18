/**
 * The node flags the container image starts the connector with: the Dockerfile's ENTRYPOINT,
 * between the node binary and the script. Tests and benchmarks run the connector with them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  const line = dockerfile.split('\n').findLast((l) => l.startsWith('ENTRYPOINT '));
  if (line === undefined) throw new Error('Dockerfile has no ENTRYPOINT');
  const argv = JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
  return argv.slice(1, -1);
}
