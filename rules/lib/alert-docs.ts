// The parts of the docs that restate the alert rules: generated from the rule files where a table can say
// it (rules/thresholds.md, the head of every section of docs/runbooks.md), checked where prose says it (a
// runbook's "Meaning", an alert named with its `for` or severity anywhere in the Markdown docs). Issue 15:
// the paper-out runbook said 10 s while the rule said 5 s.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { formatDuration, parseDuration } from '@tillwatch/config';
import { alerts, groupIntervals, REPO_DIR, RULES_DIR, type Rule } from './rule-files.js';

export type Alert = Rule & { alert: string };

export const GENERATE_COMMAND = 'npm run docs:generate';
const END_MARKER = '<!-- END GENERATED -->';
const BEGIN_MARKER = (source: string) =>
  `<!-- BEGIN GENERATED from ${source} by \`${GENERATE_COMMAND}\`: edit the rule, not this block -->`;
/** One generated block with the blank line that follows it, wherever it sits. */
const BLOCK = /<!-- BEGIN GENERATED [^\n]*-->\n[\s\S]*?<!-- END GENERATED -->\n/g;

export const THRESHOLDS = 'rules/thresholds.md';
export const RUNBOOKS = 'docs/runbooks.md';
const SEVERITIES = ['critical', 'warning', 'info'];

/** "5s" → "5 s", "1h30m" → "1 h 30 m": the way the docs write a `for`. */
export function formatFor(d: string | undefined): string {
  if (d === undefined) return '–';
  return d.replace(/(\d+)([a-z]+)/g, ' $1 $2').trim();
}

/** An expression on one table line: whitespace collapsed, and `|` escaped so it does not end the cell. */
function exprCell(expr: string): string {
  return `\`${expr.replace(/\s+/g, ' ').trim().replaceAll('|', '\\|')}\``;
}

function evaluated(a: Alert, intervals: Map<string, number | undefined>): string {
  const ms = intervals.get(a.group);
  return ms === undefined ? 'global interval' : `every ${formatFor(formatDuration(ms))}`;
}

function card(a: Alert, fromDir: string): string {
  const c = a.labels?.incident_class ?? '';
  return `[\`${c}\`](${fromDir}alert-bridge/knowledge-base/${c}.yml)`;
}

function ruleSource(a: Alert): string {
  return `rules/${basename(a.file)}`;
}

function thresholdsBlock(list: Alert[], intervals: Map<string, number | undefined>): string {
  const rows = list.map(
    (a) =>
      `| \`${a.alert}\` | ${a.labels?.severity ?? ''} | ${formatFor(a.for)} | ${exprCell(a.expr)} | ` +
      `${evaluated(a, intervals)} | ${card(a, '../')} | ${a.labels?.team ?? ''} |`,
  );
  return [
    BEGIN_MARKER('rules/*.yml'),
    '',
    '| alert | severity | `for` | fires when | evaluated | incident class (card) | team |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    END_MARKER,
    '',
  ].join('\n');
}

function runbookBlock(a: Alert, intervals: Map<string, number | undefined>): string {
  return [
    BEGIN_MARKER(ruleSource(a)),
    '',
    '| severity | `for` | fires when | evaluated | incident class (card) | team |',
    '| --- | --- | --- | --- | --- | --- |',
    `| ${a.labels?.severity ?? ''} | ${formatFor(a.for)} | ${exprCell(a.expr)} | ${evaluated(a, intervals)} | ` +
      `${card(a, '../')} | ${a.labels?.team ?? ''} |`,
    '',
    END_MARKER,
    '',
  ].join('\n');
}

/** rules/thresholds.md with its one generated block rewritten. */
export function renderThresholds(text: string, list: Alert[], intervals: Map<string, number | undefined>) {
  const blocks = text.match(BLOCK) ?? [];
  if (blocks.length !== 1)
    throw new Error(
      `${THRESHOLDS}: expected one generated block (BEGIN/END GENERATED), found ${blocks.length}`,
    );
  return text.replace(BLOCK, () => thresholdsBlock(list, intervals));
}

/** docs/runbooks.md with the generated block right under every alert's `### <alert>` heading. */
export function renderRunbooks(text: string, list: Alert[], intervals: Map<string, number | undefined>) {
  const byName = new Map(list.map((a) => [a.alert, a]));
  const seen = new Set<string>();
  const out = text.replace(
    new RegExp(`^### (Till\\w+)\\n(?:\\n${BLOCK.source})?`, 'gm'),
    (whole, name: string) => {
      const a = byName.get(name);
      if (!a) return whole; // rules-contract.test.ts reports a section of an alert that does not exist
      seen.add(name);
      return `### ${name}\n\n${runbookBlock(a, intervals)}`;
    },
  );
  const missing = list.filter((a) => !seen.has(a.alert)).map((a) => `### ${a.alert} (${ruleSource(a)})`);
  if (missing.length)
    throw new Error(`${RUNBOOKS} has no section for ${missing.join(', ')}: add the heading and its text`);
  return out;
}

export interface GeneratedDoc {
  /** Path relative to the repository. */
  path: string;
  current: string;
  expected: string;
}

/** What the generated parts of the docs must be for the rules in `rulesDir`. */
export function generateDocs(rulesDir = RULES_DIR, repoDir = REPO_DIR): GeneratedDoc[] {
  const list = alerts(rulesDir);
  const intervals = groupIntervals(rulesDir);
  const thresholds = readDoc(repoDir, THRESHOLDS);
  const runbooks = readDoc(repoDir, RUNBOOKS);
  return [
    { path: THRESHOLDS, current: thresholds, expected: renderThresholds(thresholds, list, intervals) },
    { path: RUNBOOKS, current: runbooks, expected: renderRunbooks(runbooks, list, intervals) },
  ];
}

/** A document of the repository by its relative path. */
export function readDoc(repoDir: string, path: string): string {
  return readFileSync(join(repoDir, path), 'utf8');
}

/** Markdown with the generated blocks blanked out (same line numbers): what people wrote. */
export function handWritten(markdown: string): string {
  return markdown.replace(BLOCK, (block) => block.replace(/[^\n]/g, ''));
}

// Durations as prose writes them: "5 s", "10 minutes", "2m", "over a minute", "an hour" (a word amount
// only with the unit spelled out, so "and" or "as" never read as one). Hand-written because the duration
// parsers of the registry read one bare duration ("10m", "2 days"), not one inside a sentence; the value
// itself goes through the same parseDuration as the rules' `for`.
const AMOUNT_UNIT =
  '(?:(\\d+)[ -]?(seconds?|s|minutes?|min|m|hours?|h|days?|d)|(?:a|an|one)\\s+(second|minute|hour|day))\\b';
const FOR_PHRASE = new RegExp(`\\bfor\\s+(?:(?:over|more than|at least)\\s+)?${AMOUNT_UNIT}`, 'g');
/** A rule's own syntax quoted in prose: `for: 5s`. */
const FOR_LITERAL = /`for: (\w+)`/g;
const DURATION = new RegExp(`(?<![\\w.,])${AMOUNT_UNIT}`, 'g');

/** Milliseconds of a match of AMOUNT_UNIT: groups (amount, unit) or (word unit). */
function proseMs(m: RegExpMatchArray): number {
  const [amount, unit] = m[1] !== undefined ? [m[1], m[2] as string] : ['1', m[3] as string];
  return parseDuration(`${amount}${unit === 'min' ? 'm' : unit[0]}`)!;
}

/** Every "for <duration>" and `for: <duration>` of a text, in milliseconds, with the words it was read from. */
export function forPhrases(text: string): { ms: number; text: string; index: number }[] {
  const prose = [...text.matchAll(FOR_PHRASE)].map((m) => ({ ms: proseMs(m), text: m[0], index: m.index }));
  const literal = [...text.matchAll(FOR_LITERAL)].flatMap((m) => {
    const ms = parseDuration(m[1] as string);
    return ms === undefined ? [] : [{ ms, text: m[0], index: m.index }];
  });
  return [...prose, ...literal].sort((a, b) => a.index - b.index);
}

const durations = (text: string) => [...text.matchAll(DURATION)].map(proseMs);

/**
 * Sections of docs/runbooks.md whose "Meaning" does not say the alert's real `for` as "for <duration>", or
 * says another one. The generated block above it says it too; this is the sentence people read.
 */
export function runbookForDrift(runbooks: string, list: Alert[]): string[] {
  const sections = new Map<string, string>();
  const parts = handWritten(runbooks).split(/^(?=#{2,3} )/m);
  for (const p of parts) {
    const name = /^### (Till\w+)\n/.exec(p)?.[1];
    if (name) sections.set(name, p);
  }
  const problems: string[] = [];
  for (const a of list) {
    const section = sections.get(a.alert);
    if (section === undefined) continue; // renderRunbooks names a missing section
    const meaning = /^- \*\*Meaning:\*\*([\s\S]*?)(?=^- \*\*|$(?![\s\S]))/m.exec(section)?.[1] ?? '';
    const want = parseDuration(a.for ?? '0s');
    const said = forPhrases(meaning);
    if (!meaning) problems.push(`${RUNBOOKS} ${a.alert}: no "- **Meaning:**" line`);
    else if (said.length === 0)
      problems.push(`${RUNBOOKS} ${a.alert}: the Meaning does not say "for ${formatFor(a.for)}"`);
    for (const s of said.filter((s) => s.ms !== want))
      problems.push(`${RUNBOOKS} ${a.alert}: the Meaning says "${s.text}", the rule's \`for\` is ${a.for}`);
  }
  return problems;
}

/** Alerts without exactly one row in the hand-written "why" table of rules/thresholds.md, and rows of none. */
export function reasonDrift(thresholds: string, list: Alert[]): string[] {
  const rows = [...handWritten(thresholds).matchAll(/^\| `(Till\w+)` \|\s*(.*?)\s*\|$/gm)];
  const count = new Map<string, number>();
  for (const r of rows) if (r[2]) count.set(r[1] as string, (count.get(r[1] as string) ?? 0) + 1);
  const names = new Set(list.map((a) => a.alert));
  const byName = new Map(list.map((a) => [a.alert, a]));
  const wrongFor = rows.flatMap(([, name, why]) => {
    const a = byName.get(name as string);
    if (!a) return [];
    return forPhrases(why as string)
      .filter((f) => f.ms !== parseDuration(a.for ?? '0s'))
      .map((f) => `${THRESHOLDS} ${a.alert}: the reason says "${f.text}", the rule's \`for\` is ${a.for}`);
  });
  return [
    ...wrongFor,
    ...list
      .filter((a) => count.get(a.alert) !== 1)
      .map((a) => `${THRESHOLDS} ${a.alert}: ${count.get(a.alert) ?? 0} rows in "Why these values", want 1`),
    ...[...count.keys()]
      .filter((n) => !names.has(n))
      .map((n) => `${THRESHOLDS} ${n}: a reason for an alert no rule defines`),
  ];
}

/** Markdown files of the repository, relative paths, without dependencies and build output. */
function markdownFiles(repoDir = REPO_DIR): string[] {
  const skip = new Set(['node_modules', 'dist', 'coverage', '.git', '.tmp', 'artifacts']);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (skip.has(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.md')) out.push(relative(repoDir, p));
    }
  };
  if (existsSync(repoDir)) walk(repoDir);
  return out.sort();
}

/** Sentences of Markdown with their offsets; a paragraph break and each table row also end one. */
function sentences(text: string): { start: number; sentence: string }[] {
  const out: { start: number; sentence: string }[] = [];
  let start = 0;
  for (const end of text.matchAll(/(?<=[.;:!?])\s+|\n\s*\n|\n(?=\|)/g)) {
    out.push({ start, sentence: text.slice(start, end.index) });
    start = end.index + end[0].length;
  }
  out.push({ start, sentence: text.slice(start) });
  return out;
}

/**
 * Places in the Markdown docs that name an alert with a `for` or a severity that is not the rule's:
 * `` `TillX` (5 s, critical) `` (the parenthesis must hold the real `for` among its durations and no other
 * severity), and "`TillX` … for 30 s" within one sentence (the nearest alert before the phrase).
 */
export function mentionDrift(list: Alert[], repoDir = REPO_DIR): string[] {
  const byName = new Map(list.map((a) => [a.alert, a]));
  const problems: string[] = [];
  for (const path of markdownFiles(repoDir)) {
    const text = handWritten(readDoc(repoDir, path));
    const lineOf = (i: number) => text.slice(0, i).split('\n').length;
    for (const m of text.matchAll(/`(Till[A-Z]\w+)` \(([^()]*)\)/g)) {
      const a = byName.get(m[1] as string);
      if (!a) continue;
      const inner = m[2] as string;
      const where = `${path}:${lineOf(m.index)} ${a.alert} (${inner})`;
      const severities = SEVERITIES.filter((s) => new RegExp(`\\b${s}\\b`).test(inner));
      if (severities.some((s) => s !== a.labels?.severity))
        problems.push(`${where}: the rule's severity is ${a.labels?.severity}`);
      const ds = durations(inner);
      if (ds.length > 0 && !ds.includes(parseDuration(a.for ?? '0s')!))
        problems.push(`${where}: the rule's \`for\` is ${a.for}`);
    }
    for (const { start, sentence } of sentences(text)) {
      const names = [...sentence.matchAll(/`(Till[A-Z]\w+)`/g)];
      for (const f of forPhrases(sentence)) {
        const before = names.filter((n) => n.index < f.index).pop();
        const a = before && byName.get(before[1] as string);
        if (a && f.ms !== parseDuration(a.for ?? '0s'))
          problems.push(
            `${path}:${lineOf(start + f.index)} ${a.alert} … "${f.text}": the rule's \`for\` is ${a.for}`,
          );
      }
    }
  }
  return problems;
}

/** The generated docs that differ from what the rules of `rulesDir` generate, one line each. */
export function staleDocs(rulesDir = RULES_DIR, repoDir = REPO_DIR): string[] {
  return generateDocs(rulesDir, repoDir)
    .filter((d) => d.current !== d.expected)
    .map((d) => `${d.path}: the generated blocks are out of date: run ${GENERATE_COMMAND}`);
}

/** Hand-written statements that disagree with the rules of `rulesDir`: what the generator cannot fix. */
export function proseDrift(rulesDir = RULES_DIR, repoDir = REPO_DIR): string[] {
  const list = alerts(rulesDir);
  return [
    ...runbookForDrift(readDoc(repoDir, RUNBOOKS), list),
    ...reasonDrift(readDoc(repoDir, THRESHOLDS), list),
    ...mentionDrift(list, repoDir),
  ];
}
