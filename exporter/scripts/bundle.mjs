// Bundles the CLI into one file (dist/cli.js), replacing tsc's per-module output for the entry
// point. Why: Node keeps every loaded ES module in memory, and zod alone is ~80 modules; one
// minified file takes less RSS on a till and starts faster on a Celeron (docs/benchmarks.md, "Exporter"). The library entry
// (dist/index.js) stays unbundled for the simulator and other importers.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// What till_exporter_build_info and --version report (src/version.ts reads it): the package version
// and the commit built, from TILLWATCH_REVISION when the build has no git checkout (a source tarball).
function revision() {
  if (process.env.TILLWATCH_REVISION) return process.env.TILLWATCH_REVISION;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
writeFileSync(
  join(root, 'dist', 'build-info.json'),
  `${JSON.stringify({ version, revision: revision() })}\n`,
);
const options = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  // Native addons and a large, lazily used library stay in node_modules.
  external: ['serialport', 'systeminformation', '@node-rs/bcrypt'],
  // Bundled CommonJS dependencies (prom-client, pino) call require(); give the ESM bundle one. Taken
  // with process.getBuiltinModule rather than an `import` of node:module, for the reason below (the
  // import is left for Node.js 22.0-22.2, which lack getBuiltinModule).
  banner: {
    js: "const require = (process.getBuiltinModule?.('node:module') ?? (await import('node:module'))).createRequire(import.meta.url);",
  },
  logLevel: 'warning',
  plugins: [
    {
      // An ES-module import of a builtin builds its namespace by reading every export, and on Node 22+
      // that runs the builtins' lazy getters: node:http pulls in undici, http2 and web streams (for
      // WebSocket), node:module the TypeScript stripper and the customization hooks, and so on: RSS
      // the exporter never uses (docs/benchmarks.md, "Exporter"). require() returns the exports object without touching them,
      // so each `import ... from 'node:x'` is bundled as a CommonJS module re-exporting require('node:x')
      // (esbuild's interop reads the properties only when the code uses them).
      name: 'builtins-through-require',
      setup(b) {
        b.onResolve({ filter: /^node:/ }, (args) =>
          args.kind === 'import-statement' || args.kind === 'dynamic-import'
            ? { path: args.path, namespace: 'builtin' }
            : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
          contents: `module.exports = require(${JSON.stringify(args.path)});`,
          loader: 'js',
        }));
      },
    },
    {
      // zod re-exports its ~50 message locales as `z.locales`, so they survive tree-shaking; the
      // exporter only ever uses the English default (imported separately by zod), so the index
      // of the others is replaced by an empty module.
      name: 'zod-without-extra-locales',
      setup(b) {
        b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
          args.importer.includes(`${'node_modules'}/zod/`)
            ? { path: 'zod-locales', namespace: 'empty' }
            : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
      },
    },
  ],
};
// V8 keeps a script's source in memory, as one byte per character only while every character is
// Latin-1: a single other one (a micro sign in a regex literal, which esbuild leaves as is) doubles the
// memory dist/cli.js's source takes (docs/benchmarks.md, "Exporter"). Fail the build instead of shipping that.
function assertAscii(outfile) {
  const text = readFileSync(join(root, outfile), 'utf8');
  const at = text.search(/[\u0080-\uffff]/);
  if (at >= 0)
    throw new Error(
      `${outfile} has a non-ASCII character near ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 20))}: escape it in the source (\\uXXXX)`,
    );
}
for (const [entry, outfile] of [
  ['src/cli.ts', 'dist/cli.js'],
  // The remote-action agent (tillwatch-actions) ships in the same package, bundled the same way.
  ['src/actions/cli.ts', 'dist/actions-cli.js'],
]) {
  await build({ ...options, entryPoints: [entry], outfile });
  assertAscii(outfile);
}
