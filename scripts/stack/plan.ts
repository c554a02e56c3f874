// The TillWatch demo stack as data: which programs run, with which arguments, on which ports, and the
// configuration files rendered for them. `npm start`, the end-to-end test, the latency bench and
// docker-compose.yml (checked by test/compose.test.ts) all take their commands from here, so the stack a
// user starts is the stack that is tested.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlDocument } from '@tillwatch/config';
import { iterateTills, loadInventory } from '@tillwatch/inventory';
import { isMap, isScalar, isSeq, visit, type Document } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Default ports. Prometheus, Alertmanager and the bridge use the ones the configs under deploy/ name. */
export const DEFAULT_PORTS = {
  prometheus: 9090,
  alertmanager: 9093,
  bridge: 9836,
  control: 9837,
  telegram: 9838,
  mailHttp: 9839,
  wall: 9840,
  calendar: 9841,
  agents: 9842,
  smtp: 2525,
} as const;

export type StackPorts = { -readonly [K in keyof typeof DEFAULT_PORTS]: number };

/** The demo tokens. The webhook token is the one deploy/alertmanager.yml sends (deploy/secrets/webhook-token). */
export const DEMO_API_TOKEN = 'tillwatch-demo-api-token';
export const DEMO_BOT_TOKEN = '123456:tillwatch-demo-bot';
/** The demo bridge's admin (deploy/bridge.yml) and the keys that sign its sessions and message links. */
export const DEMO_ADMIN = { name: 'admin', password: 'tillwatch-demo-admin' } as const;
export const DEMO_SESSION_KEY = 'tillwatch-demo-session-key-change-me-0123456789';
export const DEMO_LINK_KEY = 'tillwatch-demo-link-key-change-me-0123456789';
/** Signs the demo bot's buttons; the demo admin presses them as this Telegram user (deploy/bridge.yml). */
export const DEMO_CALLBACK_KEY = 'tillwatch-demo-callback-key-change-me-0123456789';
export const DEMO_ADMIN_TELEGRAM_ID = 100001;
/**
 * Each demo till's action-channel secret is derived from this key and the till's id, so the bridge's
 * enrolment and the till's secret file agree without a list of 125 secrets in the repository. Real tills
 * get random ones (exporter/README.md, "Remote actions").
 */
export const DEMO_TILL_KEY = 'tillwatch-demo-till-key-change-me-0123456789';
export const demoTillSecret = (till: string): string =>
  createHmac('sha256', DEMO_TILL_KEY).update(till).digest('hex');
/** How often the demo's till agents ask the bridge for actions (a real till: 30 s, the agent's default). */
export const DEMO_AGENT_POLL = '10s';

export interface StackOptions {
  /** Repository root (the working directory of every command). */
  root?: string;
  /** Where rendered configs, targets, databases and logs go. Default `.tmp/stack` under the root. */
  runtimeDir?: string;
  /** Inventory the simulator serves and the targets are generated from. */
  inventory?: string;
  /** Fleet scenario; `null` runs the fleet without one (every till healthy until a fault is injected). */
  scenario?: string | null;
  ports?: Partial<StackPorts>;
  apiToken?: string;
  botToken?: string;
  /** Extra arguments for `tillwatch-simulator fleet` (e.g. `--seed 1`). */
  simulatorArgs?: string[];
  /**
   * The bridge's `remediation` section (remote actions on tills), for a caller that runs its own till
   * agents. Without it the stack self-heals as the demo does: every simulated till with a УТМ or a marking
   * module is enrolled with its own secret, the policies are deploy/bridge.yml's, and the `till-agents`
   * service runs each till's agent.
   */
  remediation?: Record<string, unknown>;
}

export interface ServiceSpec {
  /** Short name, also the docker-compose service name. */
  name: string;
  title: string;
  /** argv: program first. `node` means the Node.js running the stack. */
  command: string[];
  env: Record<string, string>;
  /** Ports the service listens on, for the clash check and its message. */
  listens: { port: number; what: string }[];
  /** HTTP URL that answers 2xx once the service is ready. */
  readyUrl: string;
  /** A line on stdout that must appear before the service counts as ready. */
  readyLine?: RegExp;
  /** What a person opens. */
  url: string;
}

export interface StackPlan {
  root: string;
  runtimeDir: string;
  inventory: string;
  ports: StackPorts;
  apiToken: string;
  botToken: string;
  webhookToken: string;
  /** Run once before the services: writes the rendered configs and the file_sd targets. */
  prepare: {
    command: string[];
    files: Record<string, string>;
    /** Folders whose every file is rendered here: emptied before the files are written. */
    dirs: string[];
  };
  services: ServiceSpec[];
  urls: StackUrls;
}

/** What a person opens; `control` is the simulator control API base. */
export interface StackUrls {
  prometheus: string;
  alertmanager: string;
  bridge: string;
  tickets: string;
  wall: string;
  telegram: string;
  mail: string;
  control: string;
  /** The till agents' status (absent when the caller runs its own agents). */
  agents?: string;
}

const HOST = '127.0.0.1';

/** Keys whose values are file paths relative to the config file that holds them. */
const PATH_KEYS = new Set([
  'rule_files',
  'files',
  'credentials_file',
  'password_file',
  'bearer_token_file',
  'ca_file',
  'cert_file',
  'key_file',
  'knowledge_base',
  'inventory',
  'templates',
]);

export function planStack(opts: StackOptions = {}): StackPlan {
  const root = resolve(opts.root ?? repoRoot);
  const runtimeDir = resolve(root, opts.runtimeDir ?? join('.tmp', 'stack'));
  const ports: StackPorts = { ...DEFAULT_PORTS, ...opts.ports };
  const inventory = resolve(root, opts.inventory ?? join('deploy', 'inventory', 'demo.yml'));
  const scenario =
    opts.scenario === null
      ? null
      : resolve(root, opts.scenario ?? join('simulator', 'scenarios', 'demo.yml'));
  // Paths in commands and rendered configs are relative when they can be, so the same commands and files
  // work in a container that mounts the repository elsewhere (docker-compose.yml uses /app).
  const arg = (p: string) => {
    const r = relative(root, p);
    return r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  const fromRuntime = (p: string) => {
    const r = relative(runtimeDir, p);
    return runtimeDir.startsWith(root + '/') && !isAbsolute(r) ? r : p;
  };
  const addr = (port: number) => `${HOST}:${port}`;
  const url = (port: number, path = '') => `http://${addr(port)}${path}`;
  const rt = (name: string) => join(runtimeDir, name);
  const webhookToken = readFileSync(join(root, 'deploy', 'secrets', 'webhook-token'), 'utf8').trim();
  const apiToken = opts.apiToken ?? DEMO_API_TOKEN;
  const botToken = opts.botToken ?? DEMO_BOT_TOKEN;

  // The configs under deploy/ name the default loopback addresses; a stack on other ports gets a copy with
  // each default address replaced, and every relative path re-anchored at the copy's folder. Nothing else
  // changes, so the rules, routes and timings are the shipped ones.
  const addressMap = new Map<string, string>(
    (Object.keys(DEFAULT_PORTS) as (keyof StackPorts)[]).map((k) => [addr(DEFAULT_PORTS[k]), addr(ports[k])]),
  );
  const render = (source: string, edit?: (doc: Document) => void): string => {
    const file = join(root, 'deploy', source);
    const doc = parseYamlDocument(readFileSync(file, 'utf8'), file);
    const fixPath = (v: unknown) => {
      if (isScalar(v) && typeof v.value === 'string') {
        v.value = fromRuntime(resolve(dirname(file), v.value));
      }
    };
    visit(doc, {
      Pair(_key, pair) {
        if (!isScalar(pair.key) || !PATH_KEYS.has(String(pair.key.value))) return;
        if (isSeq(pair.value)) pair.value.items.forEach(fixPath);
        else fixPath(pair.value);
      },
    });
    visit(doc, {
      Scalar(_key, node) {
        if (typeof node.value === 'string') {
          node.value = node.value.replace(/127\.0\.0\.1:\d+/g, (a) => addressMap.get(a) ?? a);
        }
      },
    });
    edit?.(doc);
    return `# Rendered by scripts/stack from deploy/${source} for this stack; edit the source, not this copy.\n${doc.toString({ lineWidth: 0 })}`;
  };
  // The demo's self-healing: which tills run an agent, and what each allows (see StackOptions.remediation).
  const agentsDir = rt('till-actions');
  const hook = join(root, 'simulator', 'hooks', 'restart-service.mjs');
  const agentTills = opts.remediation
    ? []
    : [...iterateTills(loadInventory(inventory))].flatMap(({ chain, store, till }) => {
        // As the fleet simulator equips its tills (simulator/src/fleet/fleet.ts, tillSpecs): a till that
        // lists no devices gets every one.
        const listed = till.devices.length > 0;
        const has = (kind: string) => !listed || till.devices.some((d) => d.kind === kind);
        const services = (['utm', 'marking'] as const).filter(has);
        return services.length ? [{ id: `${chain.id}/${store.id}/${till.id}`, till: till.id, services }] : [];
      });
  const agentFiles: Record<string, string> = {};
  for (const t of agentTills) {
    const base = join(agentsDir, t.id.replaceAll('/', '__'));
    agentFiles[`${base}.secret`] = `${demoTillSecret(t.id)}\n`;
    // The till's own allowlist: only the restarts of the services it has. Absolute paths (the agent
    // accepts no PATH search); the program is the simulator's hook, where a real till names systemctl.
    const allow = Object.fromEntries(
      t.services.map((s) => [
        s === 'utm' ? 'restart_utm' : 'restart_marking',
        {
          program: process.execPath,
          args: [hook, url(ports.control), t.till, s],
          timeout: '20s',
          rate_limit: { max: 3, per: '1h' },
        },
      ]),
    );
    agentFiles[`${base}.yml`] =
      `# Rendered by scripts/stack for the demo till ${t.id}: its remote-action agent (exporter/README.md,\n# "Remote actions"), run by scripts/stack/till-agents.ts.\n` +
      JSON.stringify(
        {
          poll_interval: DEMO_AGENT_POLL,
          bridge: { url: url(ports.bridge), till: t.id, secret_file: `${base}.secret` },
          allow,
        },
        null,
        2,
      ) +
      '\n';
  }
  const files: Record<string, string> = {
    [rt('prometheus.yml')]: render('prometheus.yml', (doc) => {
      // The targets the stack generates from its inventory live beside the rendered config.
      const scrape = doc.get('scrape_configs');
      if (!isSeq(scrape)) throw new Error('deploy/prometheus.yml: scrape_configs: expected a list');
      for (const job of scrape.items) {
        if (!isMap(job) || job.get('job_name') !== 'tillwatch-exporter') continue;
        job.setIn(['file_sd_configs', 0, 'files'], doc.createNode([fromRuntime(rt('targets/*.json'))]));
      }
    }),
    [rt('alertmanager.yml')]: render('alertmanager.yml'),
    [rt('bridge.yml')]: render('bridge.yml', (doc) => {
      // The bridge opens storage.path from its working directory (the repository root), not from the
      // config's folder: relative to the root, so the database stays in the runtime dir (and in /app/.tmp
      // in docker-compose.yml) rather than landing in the repository.
      doc.setIn(['storage', 'path'], arg(rt('bridge.db')));
      doc.setIn(['email', 'smtp', 'port'], ports.smtp);
      if (opts.remediation) doc.set('remediation', doc.createNode(opts.remediation));
      else
        doc.setIn(
          ['remediation', 'tills'],
          doc.createNode(agentTills.map((t) => ({ id: t.id, secret: demoTillSecret(t.id) }))),
        );
    }),
    ...agentFiles,
  };

  const node = (script: string, ...args: string[]) => ['node', '--import', 'tsx', script, ...args];
  // The wall renders the NOC dashboard's panel on this Prometheus; its ticket links open this stack's bridge.
  const wallUrl = `${url(ports.wall, '/')}?prom=${url(ports.prometheus)}&var-bridge=${url(ports.bridge)}`;
  const services: ServiceSpec[] = [
    {
      name: 'telegram-emulator',
      title: 'Telegram Bot API emulator',
      command: node(
        'scripts/stack/telegram-emulator.ts',
        '--listen',
        addr(ports.telegram),
        '--token',
        botToken,
      ),
      env: {},
      listens: [{ port: ports.telegram, what: 'Telegram Bot API emulator' }],
      readyUrl: url(ports.telegram, '/messages'),
      url: url(ports.telegram, '/messages'),
    },
    {
      name: 'mail-catcher',
      title: 'SMTP catcher',
      command: node(
        'scripts/stack/mail-catcher.ts',
        '--smtp',
        addr(ports.smtp),
        '--http',
        addr(ports.mailHttp),
      ),
      env: {},
      listens: [
        { port: ports.smtp, what: 'SMTP catcher (SMTP)' },
        { port: ports.mailHttp, what: 'SMTP catcher (HTTP)' },
      ],
      readyUrl: url(ports.mailHttp, '/messages'),
      url: url(ports.mailHttp, '/messages'),
    },
    {
      name: 'bridge',
      title: 'Alert bridge',
      command: ['node', 'alert-bridge/dist/cli.js', '--config', arg(rt('bridge.yml'))],
      env: {
        TILLWATCH_WEBHOOK_TOKEN: webhookToken,
        TILLWATCH_API_TOKEN: apiToken,
        TILLWATCH_TELEGRAM_BOT_TOKEN: botToken,
        TILLWATCH_ADMIN_PASSWORD: DEMO_ADMIN.password,
        TILLWATCH_SESSION_KEY: DEMO_SESSION_KEY,
        TILLWATCH_LINK_KEY: DEMO_LINK_KEY,
        TILLWATCH_TELEGRAM_CALLBACK_KEY: DEMO_CALLBACK_KEY,
      },
      listens: [{ port: ports.bridge, what: 'alert bridge' }],
      readyUrl: url(ports.bridge, '/readyz'),
      url: url(ports.bridge, '/ui'),
    },
    {
      name: 'alertmanager',
      title: 'Alertmanager',
      command: [
        'prometheus-alertmanager',
        `--config.file=${arg(rt('alertmanager.yml'))}`,
        `--storage.path=${arg(rt('alertmanager'))}`,
        `--web.listen-address=${addr(ports.alertmanager)}`,
        // One instance: no gossip port to clash with another Alertmanager on the machine.
        '--cluster.listen-address=',
      ],
      env: {},
      listens: [{ port: ports.alertmanager, what: 'Alertmanager' }],
      readyUrl: url(ports.alertmanager, '/-/ready'),
      url: url(ports.alertmanager),
    },
    {
      name: 'prometheus',
      title: 'Prometheus',
      command: [
        'prometheus',
        `--config.file=${arg(rt('prometheus.yml'))}`,
        `--storage.tsdb.path=${arg(rt('prometheus'))}`,
        // The history `tillwatch forecast` reads by default (90 days); Prometheus keeps 15 without it.
        '--storage.tsdb.retention.time=90d',
        `--web.listen-address=${addr(ports.prometheus)}`,
      ],
      env: {},
      listens: [{ port: ports.prometheus, what: 'Prometheus' }],
      readyUrl: url(ports.prometheus, '/-/ready'),
      url: url(ports.prometheus),
    },
    {
      name: 'simulator',
      title: 'Fleet simulator',
      command: [
        'node',
        'simulator/dist/cli.js',
        'fleet',
        '--inventory',
        arg(inventory),
        ...(scenario ? ['--scenario', arg(scenario)] : []),
        '--control-listen',
        addr(ports.control),
        ...(opts.simulatorArgs ?? []),
      ],
      env: {},
      listens: [{ port: ports.control, what: 'fleet simulator control API' }],
      readyUrl: url(ports.control, '/fleet'),
      readyLine: /fleet ready:/,
      url: url(ports.control, '/fleet'),
    },
    ...(agentTills.length
      ? [
          {
            name: 'till-agents',
            title: 'Till action agents',
            command: node(
              'scripts/stack/till-agents.ts',
              '--dir',
              arg(agentsDir),
              '--listen',
              addr(ports.agents),
            ),
            env: {},
            listens: [{ port: ports.agents, what: 'till action agents (status)' }],
            readyUrl: url(ports.agents, '/agents'),
            readyLine: /till agents ready:/,
            url: url(ports.agents, '/agents'),
          } satisfies ServiceSpec,
        ]
      : []),
    {
      // tillwatch_store_open for the stores with a calendar in the inventory (none in the demo fleet, which
      // is watched around the clock); Prometheus scrapes it as job tillwatch-calendar.
      name: 'calendar',
      title: 'Store calendar',
      command: [
        'node',
        'ops/dist/cli.js',
        'calendar',
        'serve',
        '--inventory',
        arg(inventory),
        '--listen',
        addr(ports.calendar),
      ],
      env: {},
      listens: [{ port: ports.calendar, what: 'store calendar (tillwatch_store_open)' }],
      readyUrl: url(ports.calendar, '/-/ready'),
      readyLine: /calendar ready:/,
      url: url(ports.calendar, '/metrics'),
    },
    {
      name: 'wall',
      title: 'Panel wall',
      // The panel harness from its sources (Vite): a production build of @grafana/data takes most of a
      // minute, the dev server seconds.
      command: [
        'node',
        'grafana-plugin/node_modules/vite/bin/vite.js',
        '--config',
        'grafana-plugin/harness/vite.config.ts',
        '--port',
        String(ports.wall),
        '--strictPort',
      ],
      env: {},
      listens: [{ port: ports.wall, what: 'panel wall (Vite)' }],
      readyUrl: url(ports.wall, '/'),
      url: wallUrl,
    },
  ];

  return {
    root,
    runtimeDir,
    inventory,
    ports,
    apiToken,
    botToken,
    webhookToken,
    prepare: {
      command: [
        'node',
        'ops/dist/cli.js',
        'inventory',
        'targets',
        '--inventory',
        arg(inventory),
        '--out',
        arg(rt('targets')),
      ],
      files,
      dirs: agentTills.length ? [agentsDir] : [],
    },
    services,
    urls: {
      prometheus: url(ports.prometheus),
      alertmanager: url(ports.alertmanager),
      bridge: url(ports.bridge),
      tickets: url(ports.bridge, '/ui'),
      wall: wallUrl,
      telegram: url(ports.telegram, '/messages'),
      mail: url(ports.mailHttp, '/messages'),
      control: url(ports.control),
      ...(agentTills.length ? { agents: url(ports.agents, '/agents') } : {}),
    },
  };
}
