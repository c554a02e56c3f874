// The repository stands on its own: no tracked file may point at notes or paths outside it (a developer's
// workspace, shared notes, a home directory), relative links and module-relative paths must land inside it,
// and a citation of a protocol page must name a section that page has.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchor } from '@tillwatch/testkit';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = 'test/self-contained.test.ts';

interface SourceFile {
  path: string;
  text: string;
}

/** References to places outside any clone of the repository. */
const OUTSIDE: Array<[RegExp, string]> = [
  // `**/work/` (an ignore pattern for a folder named work) is not a path.
  [/(?<![\w*.])\/work\//, 'an absolute path into a developer workspace'],
  [/(?<![\w.])\/home\/[\w.-]+\//, 'a home directory'],
  [/(?<![\w.])~\/[\w.-]/, 'a home directory'],
  [/\bshared\/[\w.-]+\.md\b/, 'shared notes outside the repository'],
  [/\b(?:domain|style)\.md\b/, 'project notes outside the repository'],
  [/\bproject notes\b/i, 'project notes outside the repository'],
];

/** Every problem found, as `file:line: what`. `exists` says whether a repository-relative path is tracked. */
function outsideReferences(files: SourceFile[], exists: (path: string) => boolean): string[] {
  const found: string[] = [];
  const headings = new Map<string, Set<string>>();
  for (const f of files.filter((x) => x.path.endsWith('.md'))) {
    const hs = [...f.text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1] ?? '');
    headings.set(f.path, new Set([...hs, ...hs.map(anchor)]));
  }
  const inside = (from: string, rel: string): string | null => {
    const p = posix.normalize(posix.join(posix.dirname(from), rel));
    return p === '..' || p.startsWith('../') ? null : p.replace(/\/$/, '');
  };
  for (const f of files) {
    f.text.split('\n').forEach((line, i) => {
      const at = `${f.path}:${i + 1}`;
      for (const [re, what] of OUTSIDE) {
        const m = re.exec(line);
        if (m) found.push(`${at}: ${what} (${m[0]})`);
      }
      const targets: string[] = [];
      if (f.path.endsWith('.md')) {
        for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          const href = m[1] ?? '';
          if (!/^[a-z][\w+.-]*:/i.test(href) && !href.startsWith('#')) targets.push(href.split('#')[0] ?? '');
        }
      }
      for (const m of line.matchAll(/new URL\(\s*['"`](\.{1,2}\/[^'"`$]*)['"`],\s*import\.meta\.url/g))
        targets.push(m[1] ?? '');
      for (const t of targets) {
        const p = inside(f.path, t);
        if (p === null) found.push(`${at}: ${t} leaves the repository`);
        else if (p !== '' && p !== '.' && !exists(p)) found.push(`${at}: ${t} does not exist`);
      }
      // Protocol citations: `docs/protocols/x.md, "Section"` or `#anchor` anywhere, and the byte fixtures'
      // `doc: x.md#anchor` beside the pages.
      const cites = [...line.matchAll(/docs\/protocols\/([\w-]+\.md)(?:#([\w-]+)|,\s*"([^"]+)")/g)];
      if (f.path.startsWith('docs/protocols/fixtures/'))
        cites.push(...line.matchAll(/\bdoc: ([\w-]+\.md)#([\w-]+)/g));
      for (const m of cites) {
        const page = `docs/protocols/${m[1]}`;
        const section = m[2] ?? m[3] ?? '';
        if (!headings.get(page)?.has(section)) found.push(`${at}: ${page} has no section "${section}"`);
      }
    });
  }
  return found;
}

function trackedTree(): { files: SourceFile[]; exists: (p: string) => boolean } {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
  const tracked = new Set(paths.filter(Boolean));
  const dirs = new Set(
    [...tracked].flatMap((p) =>
      p
        .split('/')
        .slice(0, -1)
        .map((_, i, a) => a.slice(0, i + 1).join('/')),
    ),
  );
  const files: SourceFile[] = [];
  for (const path of tracked) {
    // The lock file lists registry URLs only; this file holds examples of what it rejects; binaries (images,
    // keys in DER) hold no references.
    if (path === 'package-lock.json' || path === SELF) continue;
    const buf = readFileSync(posix.join(ROOT, path));
    if (!buf.includes(0)) files.push({ path, text: buf.toString('utf8') });
  }
  return { files, exists: (p) => tracked.has(p) || dirs.has(p) };
}

describe('the repository is self-contained', () => {
  it('no tracked file points outside it, and every link and protocol citation resolves', () => {
    const { files, exists } = trackedTree();
    expect(files.length).toBeGreaterThan(100);
    expect(outsideReferences(files, exists)).toEqual([]);
  });

  it('catches each kind of outside reference', () => {
    const files: SourceFile[] = [
      { path: 'docs/protocols/shtrih-m.md', text: '# Shtrih-M\n\n## Frame\n' },
      {
        path: 'exporter/src/a.ts',
        text: [
          '// framing: see /work/shared/domain.md',
          '// as style.md says',
          "const f = new URL('../../../../notes.txt', import.meta.url);",
          '// docs/protocols/shtrih-m.md, "Frame" and docs/protocols/shtrih-m.md#exchange',
          "const ok = new URL('../../docs/protocols/shtrih-m.md', import.meta.url); // ignore: '**/work/'",
        ].join('\n'),
      },
      {
        path: 'docs/x.md',
        text: 'See [notes](../../notes.md), [gone](gone.md) and [ok](protocols/shtrih-m.md).',
      },
      {
        path: 'docs/protocols/fixtures/x.yml',
        text: 'a:\n  doc: shtrih-m.md#frame\nb:\n  doc: shtrih-m.md#nope',
      },
    ];
    const exists = (p: string) => files.some((f) => f.path === p);
    expect(outsideReferences(files, exists)).toEqual([
      'exporter/src/a.ts:1: an absolute path into a developer workspace (/work/)',
      'exporter/src/a.ts:1: shared notes outside the repository (shared/domain.md)',
      'exporter/src/a.ts:1: project notes outside the repository (domain.md)',
      'exporter/src/a.ts:2: project notes outside the repository (style.md)',
      'exporter/src/a.ts:3: ../../../../notes.txt leaves the repository',
      'exporter/src/a.ts:4: docs/protocols/shtrih-m.md has no section "exchange"',
      'docs/x.md:1: ../../notes.md leaves the repository',
      'docs/x.md:1: gone.md does not exist',
      'docs/protocols/fixtures/x.yml:4: docs/protocols/shtrih-m.md has no section "nope"',
    ]);
  });
});
