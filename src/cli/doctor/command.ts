/**
 * `cron-connector doctor [--json]`: runs the checks and prints the report, for people or as one
 * JSON document. Exit codes: 0 no check failed (warnings allowed), 1 a check failed (or the
 * configuration is invalid), 2 usage error.
 */
import { UsageError, booleanFlag, parseCommandArgs } from '../args.ts';
import type { Io } from '../io.ts';
import { diagnose, type DoctorDeps } from './doctor.ts';
import { renderText } from './render-text.ts';

export const DOCTOR_HELP = `Usage: cron-connector doctor [--json]

Reads the connector's configuration from the same environment variables as the daemon and checks,
step by step: the configuration, the ServiceAccount token (IAM mode: the projected file, or one
minted with TokenRequest when token_source=kubernetes), the token exchange (IAM mode), then
discovery: the namespaces visible, the functions selected in each and every schedule that cannot
be parsed; with jwt_auth=true, whether a per-function token (Function:Invoke) can be minted for
one selected function, without invoking it; with leader_election=true, whether the Lease can be
read and written, its holder and the progress record. Each failure comes with its likely cause and
the fix. Tokens, signatures and passwords are never printed.

Options:
  --json        one JSON document on stdout: { version, ok, checks: [...], token, policies, namespaces: [...] }
  -h, --help    print this help

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 usage error.
`;

const OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export async function runDoctor(argv: readonly string[], deps: DoctorDeps, io: Io): Promise<number> {
  let json: boolean;
  try {
    const args = parseCommandArgs(argv, OPTIONS);
    if (booleanFlag(args, 'help')) {
      io.out(DOCTOR_HELP);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    json = booleanFlag(args, 'json');
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`cron-connector doctor: ${err.message}; see cron-connector doctor --help\n`);
    return 2;
  }
  const report = await diagnose(deps);
  io.out(json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
  return report.ok ? 0 : 1;
}
