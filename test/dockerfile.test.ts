// The image's Dockerfile, parsed as Docker does (dockerfile-ast): there is no Docker engine on the test machine,
// so what a user of the image would notice is checked on the build instructions — a multi-stage build on the
// Node.js LTS the suite runs on, compilers only where the native modules are built, an unprivileged user and a
// healthcheck in the image that runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/stack/index.js';
// @ts-expect-error: plain JavaScript without types (it runs before npm ci)
import { MIN_NODE_MAJOR, NODE_LTS } from '../scripts/ensure-deps.mjs';

const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const froms = dockerfile.getFROMs();
const instructions = dockerfile.getInstructions();

/** The instructions of each stage, from its FROM up to the next. */
function stages(): { name: string | null; image: string | null; body: Instruction[] }[] {
  return froms.map((from, i) => {
    const start = instructions.indexOf(from);
    const end = i + 1 < froms.length ? instructions.indexOf(froms[i + 1]!) : instructions.length;
    return { name: from.getBuildStage(), image: from.getImage(), body: instructions.slice(start + 1, end) };
  });
}

const of = (body: Instruction[], keyword: string) => body.filter((i) => i.getKeyword() === keyword);
const COMPILERS = /\b(g\+\+|gcc|clang|make|build-essential|python3)\b/;

describe('Dockerfile', () => {
  const all = stages();
  const final = all.at(-1)!;

  it('builds in stages on the exact Node.js LTS release the suite and the .deb run', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(s.image).toBe(`node:${NODE_LTS}-bookworm-slim`);
    expect(Number(String(NODE_LTS).split('.')[0])).toBeGreaterThanOrEqual(MIN_NODE_MAJOR);
  });

  it('installs compilers only in the build stage, and the final stage copies the built tree from it', () => {
    const build = all.find((s) => s.name === 'build');
    expect(build, 'a stage named build').toBeDefined();
    const installs = (s: (typeof all)[number]) =>
      of(s.body, 'RUN')
        .map((r) => r.getArgumentsContent() ?? '')
        .filter((cmd) => /apt-get install/.test(cmd));
    expect(installs(build!).some((cmd) => COMPILERS.test(cmd))).toBe(true);
    for (const s of all.slice(1)) {
      if (s === build) continue;
      expect({ stage: s.name, compilers: installs(s).filter((cmd) => COMPILERS.test(cmd)) }).toEqual({
        stage: s.name,
        compilers: [],
      });
    }
    const from = of(final.body, 'COPY').flatMap((c) =>
      (c as Copy)
        .getFlags()
        .filter((f) => f.getName() === 'from')
        .map((f) => f.getValue()),
    );
    expect(from).toContain('build');
  });

  it('runs as the unprivileged node user, set after the last root-only step', () => {
    const users = of(final.body, 'USER');
    expect(users.at(-1)?.getArgumentsContent()).toBe('node');
    const lastUser = final.body.indexOf(users.at(-1)!);
    const runsAfter = of(final.body.slice(lastUser), 'RUN').map((r) => r.getArgumentsContent());
    expect(runsAfter).toEqual([]);
  });

  it('has a HEALTHCHECK that runs a command, and a default command', () => {
    const hc = of(final.body, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    expect(hc[0]!.getArgumentsContent()).toMatch(/\bCMD\b/);
    expect(of(final.body, 'CMD')).toHaveLength(1);
  });
});
