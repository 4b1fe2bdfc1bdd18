/**
 * The leader election step (leader_election=true): the Kubernetes API is reachable with the
 * connector's credentials, the Lease can be read, and written (a server-side dry run, so nothing
 * changes); and what the Lease says: the holder, its last renewal, the progress record. A 403
 * names the RBAC rule that is missing.
 */
import type { LeaderElectionConfig } from '../../config.ts';
import { ConnectorError, describeError, KubeApiError } from '../../errors.ts';
import { connectKube, KubeLeaseStore } from '../../kube/api.ts';
import type { Lease } from '../../leader/lease.ts';
import { readHandedThrough } from '../../leader/progress.ts';
import { check, failed, type Check } from './report.ts';

function failure(err: unknown, summary: string): Check {
  if (!(err instanceof ConnectorError)) throw err;
  return failed('leader-election', `${summary}: ${describeError(err)}`, {
    code: err.code,
    cause: err.diagnosis?.cause ?? 'the Kubernetes API call failed',
    fix: err.diagnosis?.fix ?? 'check the Kubernetes API server and the connector\'s credentials',
  });
}

function ago(iso: string | undefined, now: number): string {
  const at = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(at)) return 'never renewed';
  const s = Math.round((now - at) / 100) / 10;
  return s >= 0 ? `renewed ${s}s ago` : `renewed ${-s}s in the future (clock skew)`;
}

function describeLease(lease: Lease, le: LeaderElectionConfig, now: number): string[] {
  const holder = lease.spec.holderIdentity ?? '';
  const handed = readHandedThrough(lease.annotations);
  const expired = lease.spec.renewTime === undefined || now - Date.parse(lease.spec.renewTime) > (lease.spec.leaseDurationSeconds ?? le.leaseDurationMs / 1000) * 1000;
  return [
    `holder: ${holder === '' ? '(none: released)' : holder}${holder === le.identity ? ' (this identity)' : ''}, ${ago(lease.spec.renewTime, now)}${holder !== '' && expired ? ', expired' : ''}`,
    `transitions: ${lease.spec.leaseTransitions ?? 0}`,
    `progress record: ${handed === undefined ? 'none yet' : `every slot up to ${new Date(handed).toISOString()} handed to the gateway`}`,
  ];
}

export async function checkLease(le: LeaderElectionConfig, timeoutMs: number, now: () => number): Promise<Check> {
  const ref = `${le.leaseNamespace}/${le.leaseName}`;
  let store: KubeLeaseStore;
  let credentials: string;
  try {
    const kube = await connectKube(timeoutMs);
    credentials = kube.credentials;
    store = new KubeLeaseStore(kube, le.leaseNamespace, le.leaseName);
  } catch (err) {
    return failure(err, 'no Kubernetes API');
  }
  const signal = AbortSignal.timeout(timeoutMs * 2);
  let lease: Lease | undefined;
  try {
    lease = await store.get(signal);
  } catch (err) {
    return failure(err, `cannot read Lease ${ref}`);
  }
  try {
    await store.dryRunWrite(lease, signal);
  } catch (err) {
    // a conflict is answered after authorization: the write is allowed, the leader just renewed
    if (!(err instanceof KubeApiError && err.status === 409)) return failure(err, `cannot write Lease ${ref}`);
  }
  const details = [`identity: ${le.identity}`, `credentials: ${credentials}`, ...(lease === undefined ? ['the Lease does not exist yet: the first replica to campaign creates it'] : describeLease(lease, le, now()))];
  const holder = lease?.spec.holderIdentity ?? '';
  const summary = `Lease ${ref} can be read and written; ${holder === '' ? 'no leader' : `leader ${holder}`}`;
  return check('leader-election', 'pass', summary, { details });
}
