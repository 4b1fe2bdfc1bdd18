/**
 * From a failed call to its cause and fix. The cause and fix are the diagnosis the error was
 * thrown with (src/diagnosis.ts), the same the daemon logs as `hint`; an error without one (not
 * the connector's own) is read as a network failure of the call to `url`.
 */
import { networkFailure, systemCode } from '../../diagnosis.ts';
import { ConnectorError, describeError } from '../../errors.ts';
import type { Diagnosis } from './report.ts';

export function diagnosisOf(err: unknown, url: URL): Diagnosis {
  const code = err instanceof ConnectorError ? { code: err.code } : {};
  const d = err instanceof ConnectorError && err.diagnosis !== undefined ? err.diagnosis : networkFailure(systemCode(err), url, describeError(err));
  return { ...code, cause: d.cause, fix: d.fix, ...(d.details === undefined ? {} : { details: d.details }) };
}
