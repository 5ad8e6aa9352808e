// The element's declarations (web/clusterscope.d.ts) under the TypeScript
// compiler itself (issue "Embedding where documentation is written": typed
// declarations for editors and MDX users). The native test in
// crates/app/src/view/api/tests.rs checks that the declarations name what the
// lab sends; this one checks that they are TypeScript a strict project
// accepts, that they type what an author writes (types/usage.ts), and that
// docs/embedding.md's JSX declaration types a React component (types/lab.tsx).
// Lines marked `@ts-expect-error` must be errors: loosened declarations (an
// `any`, a widened union) fail as surely as broken ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

// The ```ts block of docs/embedding.md that declares the tag for JSX.
function jsxDeclaration() {
  const page = readFileSync(join(ROOT, 'docs', 'embedding.md'), 'utf8');
  const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const found = blocks.filter((b) => b.includes("declare module 'react'"));
  assert.equal(found.length, 1, "docs/embedding.md has one ```ts block declaring <cluster-scope> for JSX");
  return found[0];
}

// Compiles `files` (names in a fresh folder holding them and the element's
// declarations) strictly, and returns the compiler's messages.
function compile(files, options = {}) {
  // Inside node_modules, so that 'react' resolves to this folder's packages.
  const dir = join(HERE, 'node_modules', '.types-check');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'web', 'clusterscope.d.ts'), join(dir, 'clusterscope.d.ts'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const program = ts.createProgram(
    Object.keys(files).map((f) => join(dir, f)),
    {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      skipLibCheck: false,
      types: [],
      ...options,
    },
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    return `${d.file.fileName.slice(dir.length + 1)}:${line + 1}: TS${d.code} ${text}`;
  });
}

const source = (name) => readFileSync(join(HERE, 'types', name), 'utf8');

test('clusterscope.d.ts types what a page author writes, strictly, and refuses what is wrong', () => {
  const messages = compile({ 'usage.ts': source('usage.ts') });
  assert.deepEqual(messages, [], messages.join('\n'));
});

test("docs/embedding.md's JSX declaration types a React component's <cluster-scope>", () => {
  const messages = compile(
    { 'cluster-scope.d.ts': jsxDeclaration(), 'lab.tsx': source('lab.tsx') },
    { jsx: ts.JsxEmit.ReactJSX, types: ['react'] },
  );
  assert.deepEqual(messages, [], messages.join('\n'));
});

// The check itself: a declaration loosened to `any` must fail it (an unused
// `@ts-expect-error` is an error), so the test above can fail.
test('a loosened declaration fails the check', () => {
  const loose = readFileSync(join(ROOT, 'web', 'clusterscope.d.ts'), 'utf8').replace(
    'seek(time: number | string): Promise<ClusterScopeState>;',
    'seek(time: any): Promise<ClusterScopeState>;',
  );
  assert.notEqual(loose, readFileSync(join(ROOT, 'web', 'clusterscope.d.ts'), 'utf8'), 'the declaration of seek was found');
  const messages = compile({ 'usage.ts': source('usage.ts'), 'clusterscope.d.ts': loose });
  assert.ok(messages.some((m) => m.includes('TS2578')), `an unused @ts-expect-error is reported: ${messages.join('\n')}`);
});
