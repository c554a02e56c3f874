// What a service desk's journal shows of each update (Redmine notes, RT replies): the change and who made it, in
// the bridge's locale. The real desks are driven in redmine.test.ts and rt.test.ts; this covers every kind.
import { describe, expect, it } from 'vitest';
import type { OutgoingEvent } from '../delivery/sender.js';
import { deskNote } from './render.js';

const ev = (type: OutgoingEvent['type'], event: string, actor: string, data: Record<string, unknown> = {}) =>
  ({ type, event, actor, data }) as OutgoingEvent;

describe('deskNote', () => {
  it('says what changed and who changed it, in Russian by default', () => {
    expect(deskNote(ev('ticket.updated', 'acknowledged', 'Иванов', { note: 'еду' }), 'ru')).toBe(
      'Взята в работу: Иванов\nПримечание: еду',
    );
    expect(deskNote(ev('ticket.updated', 'commented', 'Иванов', { text: 'рулон заменён' }), 'ru')).toBe(
      'Комментарий (Иванов): рулон заменён',
    );
    expect(deskNote(ev('ticket.updated', 'assigned', 'lead', { assignee: 'Петров' }), 'ru')).toBe(
      'Назначена на Петров (lead)',
    );
    expect(deskNote(ev('ticket.resolved', 'resolved', 'alertmanager', { self_resolved: true }), 'ru')).toBe(
      'Заявка решена: все алерты погасли',
    );
  });

  it('names the alerts that joined, a person who resolved or reopened, and the waits', () => {
    expect(
      deskNote(ev('ticket.updated', 'alert_joined', 'alertmanager', { alerts: ['TillPaperLow'] }), 'en'),
    ).toBe('Alerts joined the ticket: TillPaperLow');
    expect(deskNote(ev('ticket.resolved', 'resolved', 'alice', { by: 'human' }), 'en')).toBe(
      'Ticket resolved: resolved by alice',
    );
    expect(
      deskNote(ev('ticket.reopened', 'reopened', 'bob', { by: 'human', note: 'still no paper' }), 'en'),
    ).toBe('Ticket reopened: bob\nNote: still no paper');
    expect(deskNote(ev('ticket.updated', 'waiting', 'alice'), 'en')).toBe('Waiting for the client (alice)');
    expect(deskNote(ev('ticket.updated', 'assigned', 'alice', { assignee: null }), 'en')).toBe(
      'Unassigned by alice',
    );
    // A kind without its own wording still says what and who.
    expect(deskNote(ev('ticket.updated', 'remediation', 'tillwatch'), 'en')).toBe(
      'Ticket updated (remediation, tillwatch)',
    );
  });
});
