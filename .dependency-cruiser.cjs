// The import rule, checked in CI (npm run lint:imports). lambdas/core is layered: each capability folder may import
// only the folders listed before it, contracts import nothing of ours, and only the composition root (adapters.ts) and
// the Lambda handlers above it see everything. See docs/develop.md, "Layout and the import rule".
const layers = [
  'contracts', // wire formats, topics, rules, tables, policy, errors
  'common', // logger, metrics, config, DynamoDB helpers, pages
  'records', // ledger, device metadata, geo
  'programs', // DR programs: market terms, local days, holiday calendars
  'timeseries', // the time-series port and its DynamoDB / Timestream adapters
  'inventory', // sites and DER assets
  'fleet', // registry, sessions, identities, shadows, agent updates, shed capability
  'commands', // commands, dispatch, time-outs, ACK history, idempotency
  'power-system', // Winter River power chain
  'ingest', // device messages in: rules, validation, refusals, DER telemetry
  'analytics', // baselines, rollups, forecasts, data quality, portfolio
  'dr', // fleet DR events: allocation, performance, settlement, reports
  'optimise', // battery schedules against prices: the LP (HiGHS), tariffs, the naive rule
];
const core = 'lambdas/core';
const layerRules = layers.map((layer, i) => ({
  name: `core-${layer}-imports-down`,
  comment: `${core}/${layer} may import only ${['nothing of ours', ...layers.slice(0, i)].join(', ')}`,
  severity: 'error',
  from: { path: `^${core}/${layer}/` },
  to: {
    path: `^(${core}/(${[...layers.slice(i + 1), 'adapters\\.ts'].join('|')})|lambdas/(?!core/)|bin/|lib/|web/|device/|test/|bench/)`,
  },
}));
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'contracts-import-no-code-of-ours',
      comment: 'contracts are the bottom: schemas and constants only',
      severity: 'error',
      from: { path: `^${core}/contracts/` },
      to: { path: `^${core}/(?!contracts/)` },
    },
    {
      name: 'core-never-imports-handlers',
      comment: 'the domain never imports a Lambda handler, the API, the CDK app, the local stack or the tests',
      severity: 'error',
      from: { path: `^${core}/` },
      to: { path: '^(lambdas/(?!core/)|bin/|lib/|test/|bench/|web/|device/)' },
    },
    {
      name: 'dashboard-imports-contracts-only',
      comment:
        'the dashboard runs code of the wire contract only; types it may take from anywhere (erased in the build)',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: `^(lambdas/(?!core/contracts/)|bin/|lib/|device/|test/)`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'device-agent-imports-contracts-only',
      comment:
        'the device agent runs on a device: code of the wire contract only, never the cloud side; types from anywhere',
      severity: 'error',
      from: { path: '^device/' },
      to: { path: `^(lambdas/(?!core/contracts/)|bin/|lib/|web/|test/)`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(lambdas|device|web/src|lib|bin)/' },
      // a cycle through a type-only import is no cycle at run time
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|cdk\\.out)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
