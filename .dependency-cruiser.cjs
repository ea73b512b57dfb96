/**
 * The dependency rule (STYLE.md, docs/architecture.md), checked by `npm run lint` in CI:
 *   rules → nothing · core → rules · storage → core · app → core, storage, config
 *   http, cli → app, core, rules, client · verify, console, client → rules, client, nothing of server
 *   examples → @tessera/verify and @tessera/rules only
 */
const server = '^packages/server/src';
module.exports = {
  forbidden: [
    {
      name: 'rules-depend-on-nothing',
      comment: '@tessera/rules runs in Node and the browser and has no dependencies.',
      severity: 'error',
      from: { path: '^packages/rules/src', pathNot: '\\.test\\.ts$' },
      to: { pathNot: '^packages/rules/src' },
    },
    {
      name: 'core-is-pure',
      comment: 'core holds the domain: no HTTP, SQL, CLI, configuration or composition.',
      severity: 'error',
      from: { path: `${server}/core` },
      to: { path: `${server}/(http|storage|cli|app|config)/` },
    },
    {
      name: 'core-uses-no-packages',
      comment: 'core may use node built-ins and @tessera/rules, no other package (its tests may use test libraries).',
      severity: 'error',
      from: { path: `${server}/core`, pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '^packages/rules|@tessera/rules' },
    },
    {
      name: 'storage-depends-on-core-only',
      severity: 'error',
      from: { path: `${server}/storage` },
      to: { path: `${server}/(http|cli|app|config)/` },
    },
    {
      name: 'app-does-not-know-transports',
      severity: 'error',
      from: { path: `${server}/app` },
      to: { path: `${server}/(http|cli)/` },
    },
    {
      name: 'transports-do-not-touch-storage',
      comment: 'http and cli reach the database only through the container.',
      severity: 'error',
      from: { path: `${server}/(http|cli)` },
      to: { path: `${server}/storage/` },
    },
    {
      name: 'config-is-a-leaf',
      severity: 'error',
      from: { path: `${server}/config` },
      to: { path: `${server}/(http|cli|app|storage|core)/` },
    },
    {
      name: 'verify-and-console-know-nothing-of-server',
      comment: "The client's src too: its tests and generator start a real server, its library never imports one.",
      severity: 'error',
      from: { path: '^packages/(verify|console|client/src)' },
      to: { path: '^packages/server' },
    },
    {
      name: 'examples-use-only-the-sdk',
      comment: 'An example is what a customer writes: of Tessera it imports @tessera/verify and @tessera/rules, by their entry points, and nothing of the server.',
      severity: 'error',
      from: { path: '^examples/[^/]+/src' },
      to: { path: '^(packages/|@tessera/)', pathNot: '^(packages/(verify|rules)/src/index\\.ts|@tessera/(verify|rules))$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules stay in the graph as leaves (doNotFollow), so core-uses-no-packages can see an
    // import of a package; excluding them would hide exactly the edges that rule is about.
    exclude: { path: '^(packages|examples)/[^/]+/dist/|(^|/)test-output/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { conditionNames: ['development', 'import', 'types', 'default'], extensions: ['.ts', '.tsx', '.js'] },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
