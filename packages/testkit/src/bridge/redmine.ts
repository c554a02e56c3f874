import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../ports.js';
import { waitFor } from './helpers.js';

/**
 * A real Redmine 5.0 from Debian's packages (`redmine`, `redmine-sqlite`, `thin`), run from
 * /usr/share/redmine on a throwaway copy of the database the package created, so a test never
 * touches the system instance. The Debian Gemfile serves with Thin when it is installed.
 */
export const REDMINE_ROOT = process.env.TILLWATCH_TEST_REDMINE_ROOT ?? '/usr/share/redmine';
export const REDMINE_DB =
  process.env.TILLWATCH_TEST_REDMINE_DB ??
  '/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default';

// Enables the REST API, gives the admin a known API key and makes a project with every tracker.
// The key is set after create: Token generates its own value on create.
const SETUP = `
Setting.rest_api_enabled = '1'
admin = User.find_by_login('admin')
admin.update_column(:must_change_passwd, false)
Token.where(user: admin, action: 'api').delete_all
Token.create!(user: admin, action: 'api').update_column(:value, ENV.fetch('TW_REDMINE_KEY'))
Project.create!(name: 'Tills', identifier: ENV.fetch('TW_REDMINE_PROJECT'), is_public: false,
  enabled_module_names: ['issue_tracking'], tracker_ids: Tracker.pluck(:id))
# The service engineer: a person of their own (not the bridge's API user) who works the issues.
person = User.new(firstname: 'Ivan', lastname: 'Petrov', mail: 'engineer@tills.test')
person.login = 'engineer'
person.password = person.password_confirmation = 'engineer-pass-2026'
person.admin = true
person.must_change_passwd = false
person.save!
Token.create!(user: person, action: 'api').update_column(:value, ENV.fetch('TW_REDMINE_PERSON_KEY'))
puts({ statuses: IssueStatus.pluck(:name, :id).to_h, priorities: IssuePriority.pluck(:name, :id).to_h }.to_json)
`;

export interface RedmineIssue {
  id: number;
  subject: string;
  description: string | null;
  project: { name: string };
  status: { id: number; name: string };
  priority: { id: number; name: string };
  journals?: {
    id: number;
    user: { id: number; name: string };
    notes: string;
    created_on: string;
    details: { name: string; new_value: string }[];
  }[];
}

export interface RunningRedmine {
  url: string;
  apiKey: string;
  project: string;
  statuses: Record<string, number>;
  priorities: Record<string, number>;
  /** The engineer's name as Redmine shows it (a person of their own, not the bridge's API user). */
  person: string;
  /** Changes an issue as the engineer would, through the REST API with their own key. */
  asPerson(issue: number, change: { status_id?: number; notes?: string }): Promise<void>;
  /** Issues of the project, newest first, read through Redmine's own REST API. */
  issues(): Promise<RedmineIssue[]>;
  issue(id: number): Promise<RedmineIssue>;
  stop(): Promise<void>;
}

const PERSON_KEY = 'e1c2a3b4d5f60718293a4b5c6d7e8f90';

export function redmineInstalled(): boolean {
  return existsSync(join(REDMINE_ROOT, 'bin', 'rails')) && existsSync(REDMINE_DB);
}

export async function startRedmine(apiKey: string, project = 'tills'): Promise<RunningRedmine> {
  // Redmine looks up only alphanumeric API keys; any other key is anonymous without a word.
  if (!/^[a-z0-9]+$/i.test(apiKey))
    throw new Error(`a Redmine API key is letters and digits only: ${apiKey}`);
  if (!redmineInstalled()) {
    throw new Error(
      `Redmine is not installed (${REDMINE_ROOT}, ${REDMINE_DB}): apt-get install redmine redmine-sqlite thin`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'tw-redmine-'));
  const db = join(dir, 'redmine.sqlite3');
  copyFileSync(REDMINE_DB, db);
  writeFileSync(join(dir, 'setup.rb'), SETUP);
  const env = {
    ...process.env,
    RAILS_ENV: 'production',
    // Rails prefers DATABASE_URL to config/database.yml: the copy, not the package's instance.
    DATABASE_URL: `sqlite3:${db}`,
    TW_REDMINE_KEY: apiKey,
    TW_REDMINE_PROJECT: project,
    TW_REDMINE_PERSON_KEY: PERSON_KEY,
  };
  const { stdout } = await promisify(execFile)('bin/rails', ['runner', join(dir, 'setup.rb')], {
    cwd: REDMINE_ROOT,
    env,
  });
  const ids = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    statuses: Record<string, number>;
    priorities: Record<string, number>;
  };
  const port = await freePort();
  const child: ChildProcess = spawn(
    'bin/rails',
    ['server', '-b', '127.0.0.1', '-p', String(port), '-P', join(dir, 'server.pid')],
    { cwd: REDMINE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { 'x-redmine-api-key': apiKey } });
    if (!res.ok) throw new Error(`redmine GET ${path}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () =>
        child.exitCode === null && (await fetch(`${url}/issues.json`).catch(() => null))?.ok === true,
      `redmine on ${url} (${out.slice(-500)})`,
      60_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    apiKey,
    project,
    ...ids,
    person: 'Ivan Petrov',
    asPerson: async (issue, change) => {
      const res = await fetch(`${url}/issues/${issue}.json`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-redmine-api-key': PERSON_KEY },
        body: JSON.stringify({ issue: change }),
      });
      if (!res.ok)
        throw new Error(`redmine PUT /issues/${issue}.json: HTTP ${res.status} ${await res.text()}`);
      await res.body?.cancel();
    },
    issues: async () =>
      ((await get(`/issues.json?project_id=${project}&status_id=*&sort=id:desc`)).issues as RedmineIssue[]) ??
      [],
    issue: async (id) => (await get(`/issues/${id}.json?include=journals`)).issue as RedmineIssue,
    stop,
  };
}
