/**
 * Import rules checked by `npm run lint` (and so by CI). One rule: no import circle under src/,
 * type-only imports included, so each folder can be read (and loaded) on its own.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import circle: give the shared words a home of their own that both sides import.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
