// The chart and the image must agree: the user the chart runs as, the port it probes, the
// entrypoint the package declares. (Building and running the image is tested elsewhere.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copiesOf, runsOf } from '../support/image.ts';
import { chartDir, repoRoot } from './helm.ts';

const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
const values = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as {
  podSecurityContext: { runAsUser: number; runAsGroup: number };
  metrics: { port: number };
};
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
};

/** The last instruction of a kind in the final stage. */
function finalStage(instruction: string): string | undefined {
  const stages = dockerfile.split(/^FROM /m);
  const last = stages.at(-1) ?? '';
  const lines = last.split('\n').filter((line) => line.startsWith(`${instruction} `));
  return lines.at(-1)?.slice(instruction.length + 1).trim();
}

const chartYaml = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as { home: string; sources: string[] };
const defaultImage = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as { image: { repository: string } };

describe("the chart's metadata", () => {
  it('points home and sources at the repository of the image it runs, not the Go connector', () => {
    const repository = defaultImage.image.repository.replace(/^ghcr\.io\//, 'https://github.com/');
    expect(repository).toBe('https://github.com/openfaas/cron-connector-ts');
    expect(chartYaml.home).toBe(repository);
    expect(chartYaml.sources).toEqual([repository]);
  });
});

describe('the image and the chart', () => {
  it('run as the same numeric non-root user', () => {
    const { runAsUser, runAsGroup } = values.podSecurityContext;
    expect(finalStage('USER')).toBe(`${String(runAsUser)}:${String(runAsGroup)}`);
    expect(runAsUser).toBeGreaterThan(0);
  });

  it('expose the HTTP port the chart probes', () => {
    expect(finalStage('EXPOSE')).toBe(String(values.metrics.port));
  });

  it('start the package bin with node in exec form', () => {
    const bin = pkg.bin['cron-connector'];
    expect(bin).toBeDefined();
    const entrypoint = JSON.parse(finalStage('ENTRYPOINT') ?? 'null') as string[];
    expect(entrypoint).toEqual(['/nodejs/bin/node', '--min-semi-space-size=4', '--max-semi-space-size=4', '--heap-growing-percent=35', '--always-sparkplug', `/app/node_modules/${pkg.name}/${bin ?? ''}`]);
  });

  it("install the packed tarball with the lockfile's production dependencies only", () => {
    expect(runsOf('build').join('\n')).toMatch(/\bnpm ci$/m);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/npm pack/);
    // no `npm install`, which would resolve the tarball's dependency ranges afresh (issue 11)
    const install = runsOf('install').join('\n');
    expect(install).toMatch(/npm ci --prefix \/app --omit=dev --ignore-scripts\b/);
    expect(install).not.toMatch(/npm (install|i|add)\b/);
    expect(copiesOf('install')).toContainEqual({ flags: ['--from=build'], sources: ['/pack/cron-connector.tgz', '/src/package-lock.json'], destination: '/tmp/' });
    expect(dockerfile).toMatch(/^FROM node:24|^ARG NODE_IMAGE=node:24/m);
  });

  it('build from an allow-listed context', () => {
    expect(dockerignore).toContain('*');
    expect(dockerignore).toContain('!src/');
    expect(dockerignore).not.toContain('!node_modules');
  });
});
