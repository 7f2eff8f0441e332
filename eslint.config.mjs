/**
 * ESLint (flat config) for every JavaScript and TypeScript file of Runlab: the extension, the
 * companion server (src, tests, scripts), the UI tests and the Node scripts and benchmarks.
 * The rules follow the JupyterLab extension template (jupyterlab/extension-template) where they
 * fit this codebase; Prettier owns formatting, so eslint-config-prettier comes last.
 *
 *   npm run lint        every check, no writes (also the `lint` layer of `npm test`)
 *   npm run lint:fix    what can be fixed automatically, fixed (eslint --fix, prettier --write, …)
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import react from 'eslint-plugin-react';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  // Build outputs, installed packages and generated files: never linted.
  globalIgnores([
    '**/node_modules/',
    'lib/',
    'server/dist/',
    'python/',
    '.venv/',
    'coverage/',
    'ui-tests/screenshots/',
    'ui-tests/test-results/',
    'ui-tests/playwright-report/',
    'test-results/',
    'playwright-report/',
    '.hypothesis/',
    '.pytest_cache/',
    '.runlab/',
    'workspace/',
    '.jupyter-test/',
    '**/*.d.ts'
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,

  // Every file: the template's rules that fit this codebase.
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: 'error',
      'no-var': 'error',
      'prefer-const': 'error',
      'prefer-arrow-callback': 'error',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `any` only where a comment says why (`// eslint-disable-next-line @typescript-eslint/no-explicit-any`).
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-use-before-define': 'off'
    }
  },

  // The extension runs in the browser.
  {
    files: ['extension/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // JupyterLab's convention, which the extension follows: interfaces are IPascalCase.
      '@typescript-eslint/naming-convention': [
        'error',
        { selector: 'interface', format: ['PascalCase'], custom: { regex: '^I[A-Z]', match: true } }
      ]
    }
  },
  {
    files: ['extension/**/*.tsx'],
    ...react.configs.flat.recommended,
    settings: { react: { version: '18.3' } }
  },
  {
    files: ['extension/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      // TypeScript checks the props. (react/react-in-jsx-scope stays on: tsconfig's "jsx": "react" needs `import React`.)
      'react/prop-types': 'off'
    }
  },

  // The companion server, its tests and scripts, the Node scripts, the benchmarks and the jest configs run in Node.
  {
    files: ['server/**/*.{ts,js,mjs}', 'scripts/**/*.mjs', 'bench/**/*.mjs', '*.mjs', 'extension/jest.config.js'],
    languageOptions: { globals: { ...globals.node } }
  },
  {
    files: ['**/jest.config.js', '**/jest.*.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },

  // UI tests: Node, plus the browser for the callbacks that page.evaluate() runs in the page.
  {
    files: ['ui-tests/**/*.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } }
  },

  // Prettier formats: no ESLint rule that it would fight with (last, so it wins).
  prettier,

  // Except curly, which eslint-config-prettier turns off: braces for every body that is not on the
  // line of its `if`/`for`/`while`, so a one-line `if (done) return;` stays as this code writes it.
  // When Prettier wraps such a line, `npm run lint:fix` adds the braces (ESLint runs after Prettier).
  { rules: { curly: ['error', 'multi-line', 'consistent'] } }
]);
