import type { Remediation } from '../actions/service.js';
import type { Ticket } from './model.js';
import type { Recorder, Sink } from './sink.js';

/**
 * A new ticket whose class has a remediation policy: its automatic first step is queued for the till (or,
 * in a dry run, only recorded), in the same transaction as the ticket.
 */
export function queueFirstStep(
  r: Remediation,
  recorder: Recorder,
  t: Ticket,
  plan: NonNullable<ReturnType<Remediation['planFor']>>,
  now: number,
  sink: Sink,
): void {
  const { action, attempts, wait } = plan.policy;
  if (plan.dryRun) {
    recorder.record(
      t,
      [
        {
          kind: 'remediation',
          actor: 'bridge',
          data: { step: 'dry_run', action, attempts, wait_ms: wait },
        },
      ],
      now,
      sink,
    );
    r.count(t.incident_class, action, 'dry_run');
    return;
  }
  (sink.actions ??= []).push(r.firstAction(t.id, t, plan, now));
  recorder.record(
    t,
    [
      {
        kind: 'remediation',
        actor: 'bridge',
        data: { step: 'queued', action, attempt: 1, attempts, wait_ms: wait },
      },
    ],
    now,
    sink,
  );
  r.count(t.incident_class, action, 'queued');
}

/** Writes one decided change of a ticket; returns the ticket as it now stands. */
