// Helpers for tests and benches that run the native stack (scripts/stack) on free loopback ports with a
// small generated inventory, and read what reached the bridge, the Telegram emulator and the mail catcher.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDemoInventory, renderInventory } from '@tillwatch/inventory';
import { freePort } from '@tillwatch/testkit';
import { buttons, type BotMessage, type CallbackAnswer } from '@tillwatch/testkit/telegram';
import {
  DEFAULT_PORTS,
  planStack,
  portFree,
  type StackPlan,
  type StackPorts,
} from '../../scripts/stack/index.js';

/**
 * `count` consecutive free ports (the demo inventory numbers tills from a base port), below Linux's
 * ephemeral range (32768+): a store outage closes its tills' listeners, and an outgoing connection must
 * not take the port before the simulator listens again.
 */
async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export interface TestStackOptions {
  dir: string;
  stores: number;
  tillsPerStore: number;
  /**
   * The bridge's `remediation` section (remote actions), for a test that runs its own till agents; without
   * it the stack self-heals as the demo does (scripts/stack/plan.ts: enrolled tills and their agents).
   */
  remediation?: Record<string, unknown>;
  /** A fleet scenario file; none by default (the test's injected faults are the only ones). */
  scenario?: string;
}

/** Plans the stack with every port free and an inventory of `stores` × `tillsPerStore` tills. */
export async function planTestStack(o: TestStackOptions): Promise<StackPlan> {
  mkdirSync(o.dir, { recursive: true });
  const tills = o.stores * o.tillsPerStore;
  const basePort = await freeRange(tills);
  const tillPorts = Array.from({ length: tills }, (_, i) => basePort + i);
  const inv = generateDemoInventory({
    stores: o.stores,
    tillsPerStore: { min: o.tillsPerStore, max: o.tillsPerStore },
    basePort,
    host: '127.0.0.1',
  });
  const inventory = join(o.dir, 'inventory.yml');
  writeFileSync(inventory, renderInventory(inv, ' test inventory'));
  const ports = {} as StackPorts;
  for (const k of Object.keys(DEFAULT_PORTS) as (keyof StackPorts)[]) {
    ports[k] = await freePort({ exclude: tillPorts });
  }
  // The fleet starts healthy unless the test gives a scenario: its faults are the only ones.
  return planStack({
    runtimeDir: join(o.dir, 'stack'),
    inventory,
    scenario: o.scenario ?? null,
    ports,
    simulatorArgs: ['--seed', '1'],
    ...(o.remediation ? { remediation: o.remediation } : {}),
  });
}

export interface Ticket {
  id: number;
  status: string;
  incident_class: string;
  store: string | null;
  till: string | null;
  tills: string[];
  team: string;
  severity: string;
  title: string;
  needs_card: boolean;
  assignee: string | null;
  recommendation: { first_line: string[] } | null;
  opened_at: string;
  resolved_at: string | null;
}

export interface TicketDetail extends Ticket {
  priority: string;
  family: string;
  recommendation: { first_line: string[]; impact: string } | null;
  alerts: { alertname: string; status: string; labels: Record<string, string> }[];
}

export type { BotMessage as TelegramMessage } from '@tillwatch/testkit/telegram';

export interface Mail {
  to: string[];
  subject: string;
  /** Decoded body. */
  text: string;
  raw: string;
  received_at: string;
}

/** Clients for what a person would look at in the running stack. */
export function stackClient(plan: StackPlan) {
  const json = async <T>(url: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(url, init);
    const body = await res.text();
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${body}`);
    return (body ? JSON.parse(body) : undefined) as T;
  };
  const control = plan.urls.control;
  const send = (method: string, path: string, body?: unknown) =>
    json<unknown>(`${control}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  return {
    injectTillFault: (till: string, fault: string) => send('POST', `/tills/${till}/faults`, { fault }),
    clearTillFault: (till: string, fault: string) => send('DELETE', `/tills/${till}/faults/${fault}`),
    injectStoreFault: (store: string, fault: string) => send('POST', `/stores/${store}/faults`, { fault }),
    clearStoreFault: (store: string, fault: string) => send('DELETE', `/stores/${store}/faults/${fault}`),
    fleet: () => json<unknown>(`${control}/fleet`),
    tickets: async (query: Record<string, string> = {}) => {
      const q = new URLSearchParams({ status: 'open,acknowledged,resolved,closed', limit: '500', ...query });
      const body = await json<{ tickets: Ticket[] } | Ticket[]>(`${plan.urls.bridge}/api/v1/tickets?${q}`, {
        headers: { authorization: `Bearer ${plan.apiToken}` },
      });
      return Array.isArray(body) ? body : body.tickets;
    },
    telegram: async () => (await json<{ messages: BotMessage[] }>(plan.urls.telegram)).messages,
    telegramAnswers: async () => (await json<{ answers: CallbackAnswer[] }>(plan.urls.telegram)).answers,
    /** A person (Telegram user `userId`) presses the button labelled `label` under the message. */
    pressTelegram: async (m: BotMessage, label: string, userId: number) => {
      const b = buttons(m).find((x) => x.text === label);
      if (!b?.callback_data) throw new Error(`no button "${label}" under message ${m.message_id}`);
      await json<unknown>(`${new URL(plan.urls.telegram).origin}/sendCallback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          date: Math.floor(Date.now() / 1000),
          from: { id: userId, is_bot: false, first_name: 'demo' },
          message: { message_id: m.message_id, chat: { id: Number(m.chat_id) } },
          data: b.callback_data,
        }),
      });
    },
    mails: async () => (await json<{ messages: Mail[] }>(plan.urls.mail)).messages,
    /** One ticket with its alerts and card, as the bridge's API gives it. */
    ticket: (id: number) =>
      json<TicketDetail>(`${plan.urls.bridge}/api/v1/tickets/${id}`, {
        headers: { authorization: `Bearer ${plan.apiToken}` },
      }),
    /** Sends alerts to Alertmanager's API as a rule would (an alert the simulator cannot raise by itself). */
    postAlerts: (alerts: { labels: Record<string, string>; annotations?: Record<string, string> }[]) =>
      json<unknown>(`${plan.urls.alertmanager}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts.map((a) => ({ ...a, startsAt: new Date().toISOString() }))),
      }),
    alerts: async () =>
      (
        await json<{
          data: { alerts: { labels: Record<string, string>; state: string; activeAt: string }[] };
        }>(`${plan.urls.prometheus}/api/v1/alerts`)
      ).data.alerts,
  };
}
