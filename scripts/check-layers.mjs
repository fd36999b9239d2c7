#!/usr/bin/env node
// Checks what may import what inside src/ (docs: STYLE.md, "One package, layers you can see").
// Every import, `export ... from` and `import('literal')` of every .ts file counts, type-only ones
// too: a type import still couples two layers. Paths are relative to the repository root.
//
//   src/types.ts, src/errors.ts  leaves: no other src file (types.ts may use @standard-schema/spec).
//   src/core/**                  types, errors, core. No node: builtin and no package: core is pure
//                                (no I/O, no timers, no Date.now()); time and randomness are injected.
//   src/storage/driver.ts        the seam: types, errors.
//   src/storage/<driver>/**      (sqlite, postgres) driver.ts, types, errors, core (pure helpers such
//                                as option checks), its own folder, node: builtins, and its own
//                                database library: better-sqlite3 / postgres.
//   src/storage/drivertest/**    driver.ts, types, errors, core, its own folder, node:test, node:assert.
//   src/runtime/**               runtime, core, driver.ts, observability, types, errors, node: builtins.
//                                Never a concrete driver: the user passes the store in.
//   src/observability/**         observability, core, types, errors, node: builtins, prom-client, pino and
//                                @opentelemetry/api (an optional peer, loaded lazily).
//   src/index.ts                 the public API: runtime, core, observability, types, errors (drivers
//                                have their own entry points).
//   src/http/**                  the public API only (src/index.ts), its own folder, node: builtins,
//                                fastify and pino: the HTTP service sees what a user sees.
//   src/cli/**                   the public API, offload/http (src/http/index.ts), the two drivers'
//                                entry points (index.ts: the CLI is where stores are wired in), its
//                                own folder, node: builtins, commander and pino.
//   *.test.ts                    their folder's rule, plus any node: builtin: tests are not shipped, and
//                                purity is about what core does when it runs, not how it is tested.
// A src file that no rule covers is a violation too: a new layer gets a rule when it is created.
// Public entry points: package.json "exports" may only point at src/index.ts, src/http/index.ts
// and the storage drivers' index.ts files (offload, offload/http, offload/sqlite,
// offload/postgres); "bin" only at src/cli/main.ts.
//
// Imports are found with a small tokenizer (comments, strings, templates and regex literals are
// skipped), not with regexes over the text. `import(expr)` with a non-literal argument cannot be
// checked and is ignored. No dependencies: plain Node.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DRIVERS = { sqlite: 'better-sqlite3', postgres: 'postgres' };

// First matching rule wins. `src`: allowed path prefixes (a prefix ending in .ts is one file);
// `builtins`: true for any node: builtin, or the list allowed; `packages`: npm packages allowed.
const RULES = [
  { files: /^src\/types\.ts$/, why: 'types.ts is a leaf', src: [], builtins: [], packages: ['@standard-schema/spec'] },
  { files: /^src\/errors\.ts$/, why: 'errors.ts is a leaf', src: [], builtins: [], packages: [] },
  {
    files: /^src\/core\//,
    why: 'core is pure: types, errors and core only',
    src: ['src/types.ts', 'src/errors.ts', 'src/core/'],
    builtins: [], // none: core does no I/O; hashing and the like belong to runtime
    packages: [],
  },
  { files: /^src\/storage\/driver\.ts$/, why: 'the driver seam sees only types and errors', src: ['src/types.ts', 'src/errors.ts'], builtins: [], packages: [] },
  {
    files: /^src\/storage\/drivertest\//,
    why: 'the driver suite tests through driver.ts only',
    src: ['src/storage/driver.ts', 'src/types.ts', 'src/errors.ts', 'src/core/', 'src/storage/drivertest/'],
    builtins: ['node:test', 'node:assert', 'node:assert/strict'],
    packages: [],
  },
  ...Object.entries(DRIVERS).map(([driver, library]) => ({
    files: new RegExp(`^src/storage/${driver}/`),
    why: `a driver imports driver.ts, types, errors, core, its own folder and ${library}`,
    src: ['src/storage/driver.ts', 'src/types.ts', 'src/errors.ts', 'src/core/', `src/storage/${driver}/`],
    builtins: true,
    packages: [library],
  })),
  {
    files: /^src\/runtime\//,
    why: 'runtime reaches storage only through src/storage/driver.ts',
    src: ['src/runtime/', 'src/core/', 'src/storage/driver.ts', 'src/observability/', 'src/types.ts', 'src/errors.ts'],
    builtins: true,
    packages: [],
  },
  {
    files: /^src\/observability\//,
    why: 'observability imports types, errors, core (pure helpers) and observability, plus its libraries',
    src: ['src/observability/', 'src/core/', 'src/types.ts', 'src/errors.ts'],
    builtins: true,
    // @opentelemetry/api is an optional peer: tracing.ts loads it lazily, inside a try.
    packages: ['prom-client', 'pino', '@opentelemetry/api'],
  },
  {
    files: /^src\/index\.ts$/,
    why: 'the public API exports no driver: drivers have their own entry points',
    src: ['src/runtime/', 'src/core/', 'src/observability/', 'src/types.ts', 'src/errors.ts'],
    builtins: [],
    packages: [],
  },
  {
    files: /^src\/http\//,
    why: 'http uses the public API only (src/index.ts), like any user',
    src: ['src/index.ts', 'src/http/'],
    builtins: true,
    packages: ['fastify', 'pino'],
  },
  {
    files: /^src\/cli\//,
    why: 'cli wires the public API, offload/http and the drivers\' entry points together',
    src: ['src/index.ts', 'src/http/index.ts', ...Object.keys(DRIVERS).map((d) => `src/storage/${d}/index.ts`), 'src/cli/'],
    builtins: true,
    packages: ['commander', 'pino'],
  },
];

/** Tokens of a TypeScript source: identifiers, string literals (value unescaped) and punctuation. */
function tokenize(text) {
  const tokens = [];
  const braces = []; // one entry per open `{`; true when it is a template's `${`
  let i = 0;
  // Skips template text from i (just after ` or after the } closing a ${...}); stops after the
  // closing backtick, or after `${` with the template remembered on the brace stack.
  const skipTemplate = () => {
    while (i < text.length) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === '`') return void i++;
      else if (c === '$' && text[i + 1] === '{') return void ((i += 2), braces.push(true));
      else i++;
    }
  };
  const regexAllowed = () => {
    const prev = tokens.at(-1);
    if (prev === undefined) return true;
    if (prev.type === 'punct') return !')]}'.includes(prev.value);
    return prev.type === 'id' && /^(return|typeof|case|do|else|in|of|new|delete|void|throw|instanceof|yield|await)$/.test(prev.value);
  };
  while (i < text.length) {
    const c = text[i];
    const start = i;
    if (/\s/.test(c)) i++;
    else if (text.startsWith('//', i)) i = text.includes('\n', i) ? text.indexOf('\n', i) : text.length;
    else if (text.startsWith('/*', i)) i = text.includes('*/', i + 2) ? text.indexOf('*/', i + 2) + 2 : text.length;
    else if (c === '"' || c === "'") {
      let value = '';
      for (i++; i < text.length && text[i] !== c && text[i] !== '\n'; i++) value += text[i] === '\\' ? text[++i] : text[i];
      i++;
      tokens.push({ type: 'str', value, pos: start });
    } else if (c === '`') {
      i++;
      skipTemplate();
      tokens.push({ type: 'tpl', value: '`', pos: start });
    } else if (c === '}' && braces.at(-1) === true) {
      braces.pop();
      i++;
      skipTemplate();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      for (i++; i < text.length && text[i] !== '\n'; i++) {
        if (text[i] === '\\') i++;
        else if (text[i] === '[') inClass = true;
        else if (text[i] === ']') inClass = false;
        else if (text[i] === '/' && !inClass) break;
      }
      i++;
      while (/[a-z]/i.test(text[i] ?? '')) i++;
      tokens.push({ type: 'regex', value: '/', pos: start });
    } else {
      const word = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*|^\d[\w.]*/u.exec(text.slice(i, i + 256));
      if (word) {
        i += word[0].length;
        tokens.push({ type: /\d/.test(word[0][0]) ? 'num' : 'id', value: word[0], pos: start });
      } else {
        if (c === '{') braces.push(false);
        if (c === '}') braces.pop();
        i++;
        tokens.push({ type: 'punct', value: c, pos: start });
      }
    }
  }
  return tokens;
}

/** Module specifiers of one file, with their line: static imports, re-exports, literal import(). */
function importsOf(text) {
  const tokens = tokenize(text);
  const found = [];
  const lineOf = (token) => text.slice(0, token.pos).split('\n').length;
  tokens.forEach((t, k) => {
    if (t.type !== 'id' || (t.value !== 'import' && t.value !== 'export')) return;
    if (tokens[k - 1]?.value === '.') return; // obj.import(...)
    const next = tokens[k + 1];
    if (t.value === 'import' && next?.type === 'str') return void found.push({ spec: next.value, line: lineOf(t) }); // import 'x'
    if (t.value === 'import' && next?.value === '(') {
      if (tokens[k + 2]?.type === 'str' && /^[),]$/.test(tokens[k + 3]?.value ?? '')) found.push({ spec: tokens[k + 2].value, line: lineOf(t) });
      return;
    }
    // import a, { b as c, type D } from 'x' / export * as ns from 'x' / export type { E } from 'x'
    for (let j = k + 1; j < tokens.length; j++) {
      const u = tokens[j];
      if (u.type === 'id' && u.value === 'from' && tokens[j + 1]?.type === 'str') return void found.push({ spec: tokens[j + 1].value, line: lineOf(t) });
      if (!(u.type === 'id' || (u.type === 'punct' && '{},*'.includes(u.value)))) return;
    }
  });
  return found;
}

function walk(dir) {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(posix.join(dir, e.name)) : e.name.endsWith('.ts') ? [posix.join(dir, e.name)] : [],
  );
}

/** What a specifier names: a repository path (relative ones), a node: builtin, or a package. */
function target(file, spec) {
  if (spec.startsWith('node:')) return { kind: 'builtin', name: spec };
  if (!spec.startsWith('.')) return { kind: 'package', name: spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/') };
  const path = posix.normalize(posix.join(posix.dirname(file), spec));
  return { kind: 'path', name: path.endsWith('.js') && !existsSync(join(ROOT, path)) ? `${path.slice(0, -3)}.ts` : path };
}

function allowed(rule, file, { kind, name }) {
  if (kind === 'path') return rule.src.some((p) => (p.endsWith('.ts') ? name === p : name.startsWith(p)));
  if (kind === 'package') return rule.packages.includes(name);
  return rule.builtins === true || rule.builtins.includes(name) || file.endsWith('.test.ts');
}

const violations = [];
let checked = 0;
const files = walk('src').toSorted();
for (const file of files) {
  const rule = RULES.find((r) => r.files.test(file));
  if (rule === undefined) {
    violations.push(`${file}: no layer rule covers this file (add one to scripts/check-layers.mjs)`);
    continue;
  }
  for (const { spec, line } of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
    checked++;
    const to = target(file, spec);
    if (allowed(rule, file, to)) continue;
    const hint = to.kind === 'package' && isBuiltin(spec) ? `write node:${spec}; ` : '';
    violations.push(`${file}:${line}: imports ${to.kind === 'path' ? to.name : spec} (${hint}${rule.why})`);
  }
}

// Public entry points: dist/X.js in package.json "exports" must come from an allowed src/X.ts.
const entries = new Set(['src/index.ts', 'src/http/index.ts', ...Object.keys(DRIVERS).map((d) => `src/storage/${d}/index.ts`)]);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
for (const [subpath, conditions] of Object.entries(pkg.exports ?? {})) {
  for (const out of Object.values(typeof conditions === 'string' ? { default: conditions } : conditions)) {
    const src = out.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$|\.js$/, '.ts');
    if (!entries.has(src)) violations.push(`package.json: exports "${subpath}" -> ${out} (public entry points are ${[...entries].join(', ')})`);
  }
}

// The bin: dist/cli/main.js, compiled from src/cli/main.ts, and nothing else.
const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
for (const [name, out] of Object.entries(bins)) {
  if (out.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts') !== 'src/cli/main.ts') violations.push(`package.json: bin "${name}" -> ${out} (the bin is ./dist/cli/main.js)`);
}

if (violations.length > 0) {
  for (const v of violations) console.error(v);
  console.error(`check-layers: ${violations.length} violation(s)`);
  process.exit(1);
}
console.log(`check-layers: ok, ${checked} imports in ${files.length} files under src/ follow the layer rules`);
