import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../ports.js';
import { waitFor } from './helpers.js';

/**
 * A real Request Tracker 5.0 from Debian's packages (`request-tracker5`, `rt5-db-sqlite`), served by its own
 * `rt-server` (Plack, Starlet) on 127.0.0.1 with a site config of its own (RT_SITE_CONFIG and
 * RT_SITE_CONFIG_DIR, so /etc/request-tracker5 is not read) and a throwaway copy of the SQLite database the
 * package's dbconfig-common created and initialised: a test never touches the system instance. Mail goes to
 * an mbox file in the instance's directory, never to a mail server.
 */
export const RT_ROOT = process.env.TILLWATCH_TEST_RT_ROOT ?? '/usr/share/request-tracker5';
export const RT_DB =
  process.env.TILLWATCH_TEST_RT_DB ?? '/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb';

// Makes the queue, the bridge's user (with an auth token) and an engineer of their own, with the rights
// a service desk gives its staff on the queue. Prints what the tests need as one JSON line.
const SETUP = `
use strict; use warnings;
use RT; RT::LoadConfig(); RT::Init();
use JSON;
my $q = RT::Queue->new(RT->SystemUser);
my ($qid, $qmsg) = $q->Create(Name => $ENV{TW_RT_QUEUE}, Description => 'TillWatch tickets');
die "queue: $qmsg\\n" unless $qid;
for my $u ([$ENV{TW_RT_USER}, 'TillWatch bridge', $ENV{TW_RT_PASSWORD}],
           ['engineer', 'Ivan Petrov', $ENV{TW_RT_PERSON_PASSWORD}]) {
  my $user = RT::User->new(RT->SystemUser);
  my ($id, $msg) = $user->Create(Name => $u->[0], RealName => $u->[1], EmailAddress => "$u->[0]\\@tills.test",
    Password => $u->[2], Privileged => 1);
  die "user $u->[0]: $msg\\n" unless $id;
  for my $right (qw(SeeQueue ShowTicket CreateTicket ModifyTicket ReplyToTicket CommentOnTicket
                    ShowTicketComments OwnTicket TakeTicket)) {
    my ($ok, $m) = $user->PrincipalObj->GrantRight(Right => $right, Object => $q);
    die "right $right: $m\\n" unless $ok;
  }
}
my $bridge = RT::User->new(RT->SystemUser);
$bridge->Load($ENV{TW_RT_USER});
$bridge->PrincipalObj->GrantRight(Right => 'ManageAuthTokens', Object => RT->System);
my ($tid, $tmsg, $token) = RT::AuthToken->new(RT::CurrentUser->new($bridge))
  ->Create(Owner => $bridge->id, Description => 'TillWatch tests');
die "token: $tmsg\\n" unless $tid;
print encode_json({ token => $token }), "\\n";
`;

export interface RtTicket {
  id: number;
  Subject: string;
  Status: string;
  Priority: string;
  Queue: { id: string };
}

export interface RtTransaction {
  id: number;
  Type: string;
  /** The user's login (the bridge's user, `engineer`, `RT_System`). */
  creator: string;
  Field: string;
  NewValue: string;
  /** The text of a reply or comment. */
  content?: string;
}

export interface RunningRt {
  url: string;
  queue: string;
  /** The bridge's RT user and its auth token. */
  user: string;
  token: string;
  /** The engineer's name as RT shows it (a person of their own, not the bridge's user). */
  person: string;
  /** What the engineer does in RT, through REST 2 with their own password: a reply or comment, a status. */
  asPerson(ticket: number, change: { correspond?: string; comment?: string; status?: string }): Promise<void>;
  /** The queue's tickets, newest first, read through RT's REST 2 API. */
  tickets(): Promise<RtTicket[]>;
  ticket(id: number): Promise<RtTicket>;
  /** A ticket's transactions in order, with the text of replies and comments. */
  history(id: number): Promise<RtTransaction[]>;
  stop(): Promise<void>;
}

const PERSON_PASSWORD = 'engineer-pass-2026';

export function rtInstalled(): boolean {
  return existsSync(join(RT_ROOT, 'libexec', 'rt-server')) && existsSync(RT_DB);
}

export async function startRt(opts: { queue?: string; user?: string } = {}): Promise<RunningRt> {
  const queue = opts.queue ?? 'Tills';
  const user = opts.user ?? 'tillwatch';
  if (!rtInstalled())
    throw new Error(
      `Request Tracker 5 is not installed (${RT_ROOT}/libexec/rt-server, ${RT_DB}): ` +
        'apt-get install request-tracker5 rt5-db-sqlite',
    );
  const dir = mkdtempSync(join(tmpdir(), 'tw-rt-'));
  const conf = join(dir, 'conf.d');
  for (const d of [conf, join(dir, 'mason'), join(dir, 'session'), join(dir, 'log')]) mkdirSync(d);
  const db = join(dir, 'rt.sqlite');
  copyFileSync(RT_DB, db);
  const port = await freePort();
  const site = join(conf, 'RT_SiteConfig.pm');
  writeFileSync(
    site,
    [
      `Set($rtname, 'tillwatch-test');`,
      `Set($Organization, 'tills.test');`,
      `Set($DatabaseType, 'SQLite');`,
      `Set($DatabaseName, '${db}');`,
      `Set($WebDomain, '127.0.0.1');`,
      `Set($WebPort, ${port});`,
      `Set($WebPath, '');`,
      `Set($Timezone, 'UTC');`,
      `Set($LogToSTDERR, 'warning');`,
      `Set($LogToSyslog, undef);`,
      `Set($LogToFile, undef);`,
      `Set($LogDir, '${join(dir, 'log')}');`,
      // Replies mail the requestors: into a file here, never to a mail server.
      `Set($MailCommand, 'mbox');`,
      `Set($CorrespondAddress, 'rt@tills.test');`,
      `Set($CommentAddress, 'rt-comment@tills.test');`,
      `$RT::MasonDataDir = '${join(dir, 'mason')}';`,
      `$RT::MasonSessionDir = '${join(dir, 'session')}';`,
      '1;',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'setup.pl'), SETUP);
  const password = 'bridge-pass-2026';
  const env = {
    ...process.env,
    RT_SITE_CONFIG: site,
    RT_SITE_CONFIG_DIR: conf,
    PERL5LIB: join(RT_ROOT, 'lib'),
    TW_RT_QUEUE: queue,
    TW_RT_USER: user,
    TW_RT_PASSWORD: password,
    TW_RT_PERSON_PASSWORD: PERSON_PASSWORD,
  };
  const { stdout } = await promisify(execFile)('perl', [join(dir, 'setup.pl')], { env });
  const { token } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { token: string };

  // Its own process group: Starlet forks workers, and stop() ends the server and them together.
  const child: ChildProcess = spawn(
    join(RT_ROOT, 'libexec', 'rt-server'),
    ['--listen', `127.0.0.1:${port}`, '--max-workers', '2'],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const api = `${url}/REST/2.0`;
  const bridgeAuth = `token ${token}`;
  const personAuth = `Basic ${Buffer.from(`engineer:${PERSON_PASSWORD}`).toString('base64')}`;
  const call = async <T>(method: string, path: string, auth = bridgeAuth, body?: unknown): Promise<T> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: auth,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`rt ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () =>
        child.exitCode === null &&
        (await fetch(`${api}/rt`, { headers: { authorization: bridgeAuth } }).catch(() => null))?.ok === true,
      `rt on ${url} (${out.slice(-500)})`,
      60_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  type Page<T> = { items: T[] };
  const ticket = async (id: number) => {
    const t = await call<Omit<RtTicket, 'id'> & { id: string | number }>('GET', `/ticket/${id}`);
    return { ...t, id: Number(t.id) };
  };
  return {
    url,
    queue,
    user,
    token,
    person: 'Ivan Petrov',
    asPerson: async (id, change) => {
      if (change.correspond !== undefined || change.comment !== undefined) {
        const kind = change.correspond !== undefined ? 'correspond' : 'comment';
        await call('POST', `/ticket/${id}/${kind}`, personAuth, {
          Content: change.correspond ?? change.comment,
          ContentType: 'text/plain',
          ...(change.status ? { Status: change.status } : {}),
        });
      } else if (change.status) {
        await call('PUT', `/ticket/${id}`, personAuth, { Status: change.status });
      }
    },
    tickets: async () => {
      const q = new URLSearchParams({
        query: `Queue = '${queue}'`,
        orderby: 'id',
        order: 'DESC',
        per_page: '100',
        fields: 'Subject,Status,Priority,Queue',
      });
      const page = await call<Page<Omit<RtTicket, 'id'> & { id: string }>>('GET', `/tickets?${q.toString()}`);
      return page.items.map((t) => ({ ...t, id: Number(t.id) }));
    },
    ticket,
    history: async (id) => {
      const q = new URLSearchParams({ fields: 'Type,Creator,Field,NewValue', per_page: '100' });
      const page = await call<
        Page<{ id: string; Type: string; Creator: { id: string }; Field: string; NewValue: string }>
      >('GET', `/ticket/${id}/history?${q.toString()}`);
      return Promise.all(
        page.items.map(async (t) => {
          const base: RtTransaction = {
            id: Number(t.id),
            Type: t.Type,
            creator: t.Creator.id,
            Field: t.Field,
            NewValue: t.NewValue,
          };
          if (t.Type !== 'Correspond' && t.Type !== 'Comment' && t.Type !== 'Create') return base;
          const parts = await call<Page<{ ContentType: string; Content: string }>>(
            'GET',
            `/transaction/${t.id}/attachments?fields=ContentType,Content`,
          );
          return { ...base, content: parts.items.find((p) => p.ContentType === 'text/plain')?.Content };
        }),
      );
    },
    stop,
  };
}
