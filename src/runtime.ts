/**
 * The runtime the connector needs. Checked by the entry point before anything else is loaded:
 * on an older Node.js the libraries fail with errors that do not say what is wrong (undici reads
 * zlib APIs Node.js 20 does not have).
 */

/** Lowest Node.js major version the connector runs on (package.json engines: >=24). */
export const MIN_NODE_MAJOR = 24;

/** Undefined when `version` (process.versions.node, e.g. "24.11.0") is new enough, else one line saying what to do. */
export function runtimeProblem(version: string): string | undefined {
  const major = Number.parseInt(version, 10);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  return `cron-connector needs Node.js ${MIN_NODE_MAJOR} or newer, found ${version}: run it with Node.js ${MIN_NODE_MAJOR} LTS (the container image ships it)`;
}
