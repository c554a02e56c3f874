// A newcomer can name the job of every top-level folder and package (issue 15): each has a README.md whose
// opening sentence says what the folder is for and names its entry point, and every file that paragraph
// names exists, so a renamed entry point shows up here instead of in a confused reader.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Top-level folders with tracked files (not build output or caches), plus every npm workspace folder. */
function foldersToDocument(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0');
  const top = new Set(tracked.filter((f) => f.includes('/')).map((f) => f.split('/')[0] as string));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
  for (const w of pkg.workspaces ?? []) {
    if (!w.endsWith('/*')) top.add(w);
    else if (existsSync(join(root, w.slice(0, -2))))
      for (const e of readdirSync(join(root, w.slice(0, -2)), { withFileTypes: true }))
        if (e.isDirectory()) top.add(`${w.slice(0, -2)}/${e.name}`);
  }
  return [...top].filter((d) => !d.startsWith('.')).sort();
}

/** The first paragraph after the `# title`, and its first sentence (a full stop outside code spans). */
function opening(readme: string): { paragraph: string; sentence: string } {
  const body = readme.replace(/^# [^\n]*\n+/, '');
  const paragraph = body
    .split(/\n\s*\n/)[0]!
    .replace(/\s+/g, ' ')
    .trim();
  const masked = paragraph.replace(/`[^`]*`/g, (code) => 'x'.repeat(code.length));
  const end = /\.(\s|$)/.exec(masked);
  return { paragraph, sentence: end ? paragraph.slice(0, end.index + 1) : paragraph };
}

/** What the problems with a folder's README are; none when it opens with a sentence naming a real entry point. */
function readmeProblems(repo: string, folder: string): string[] {
  const file = join(repo, folder, 'README.md');
  if (!existsSync(file)) return [`${folder}/README.md is missing`];
  const text = readFileSync(file, 'utf8');
  if (!/^# \S/.test(text)) return [`${folder}/README.md does not start with a "# title" line`];
  const { paragraph, sentence } = opening(text);
  const scripts = Object.keys(
    (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts?: object }).scripts ?? {},
  );
  const bins = existsSync(join(repo, folder, 'package.json'))
    ? Object.keys(
        (JSON.parse(readFileSync(join(repo, folder, 'package.json'), 'utf8')) as { bin?: object }).bin ?? {},
      )
    : [];
  const exists = (p: string) => existsSync(join(repo, folder, p)) || existsSync(join(repo, p));
  // Files and folders a reader would open; globs, build output, packages and addresses are not checked.
  const isPath = (t: string) =>
    !/[\s*]|^(dist\b|\.tmp\b|@|:|https?:)/.test(t) &&
    (t.includes('/') || /\.(ts|mjs|js|ya?ml|json|md)$/.test(t));
  const named = (text: string) => [
    ...[...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string),
    ...[...text.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1] as string),
  ];
  const problems = named(paragraph)
    .filter((t) => isPath(t) && !exists(t))
    .map((t) => `${folder}/README.md names ${t}, which does not exist`);
  // The entry point is the folder's own: a file in it (not a link elsewhere), its bin or an npm script.
  const own = (t: string) => isPath(t) && !t.startsWith('../') && existsSync(join(repo, folder, t));
  const entry = named(sentence).some(
    (t) => own(t) || bins.includes(t) || scripts.some((s) => t === `npm run ${s}` || t === `npm ${s}`),
  );
  if (!entry)
    problems.push(
      `${folder}/README.md: the opening sentence names no entry point (an existing file, a bin of the package or an npm script): "${sentence}"`,
    );
  return problems;
}

describe('READMEs', () => {
  const folders = foldersToDocument();

  it('cover the folders a newcomer meets', () => {
    expect(folders).toEqual(
      expect.arrayContaining([
        'alert-bridge',
        'bench',
        'dashboards',
        'deploy',
        'docs',
        'exporter',
        'grafana-plugin',
        'ops',
        'rules',
        'scripts',
        'simulator',
        'test',
      ]),
    );
  });

  it.each(folders)('%s/README.md opens with one sentence naming its job and entry point', (folder) => {
    expect(readmeProblems(root, folder)).toEqual([]);
  });

  it('reports a missing README, an opening without an entry point, and a renamed one', () => {
    const repo = mkdtempSync(join(tmpdir(), 'tillwatch-readmes-'));
    try {
      writeFileSync(join(repo, 'package.json'), JSON.stringify({ scripts: { start: 'x' } }));
      for (const d of ['none', 'vague', 'renamed', 'good'])
        mkdirSync(join(repo, d, 'src'), { recursive: true });
      writeFileSync(join(repo, 'vague', 'README.md'), '# Vague\n\nUseful things for the project.\n');
      writeFileSync(join(repo, 'renamed', 'README.md'), '# Renamed\n\nThe tool: `src/main.ts` runs it.\n');
      writeFileSync(join(repo, 'good', 'src', 'cli.ts'), '');
      writeFileSync(join(repo, 'good', 'README.md'), '# Good\n\nThe tool: `src/cli.ts` runs it. More.\n');
      expect(readmeProblems(repo, 'none')).toEqual(['none/README.md is missing']);
      expect(readmeProblems(repo, 'vague')).toEqual([
        'vague/README.md: the opening sentence names no entry point (an existing file, a bin of the package or an npm script): "Useful things for the project."',
      ]);
      expect(readmeProblems(repo, 'renamed')).toEqual([
        'renamed/README.md names src/main.ts, which does not exist',
        'renamed/README.md: the opening sentence names no entry point (an existing file, a bin of the package or an npm script): "The tool: `src/main.ts` runs it."',
      ]);
      expect(readmeProblems(repo, 'good')).toEqual([]);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
