// Cucumber configuration (also used by `hookpoint run`, which adds paths, tags and names).
// TypeScript support code is loaded by Node's own type stripping (Node >= 22.18).
const common = {
  paths: ['features/**/*.feature'],
  import: ['support/scenario/world.ts', 'support/scenario/hooks.ts', 'steps/**/*.ts'],
  strict: true,
  format: [
    'progress',
    'message:reports/cucumber-messages.ndjson',
    ['allure-cucumberjs/reporter', 'reports/allure-reporter.out'],
  ],
  formatOptions: {
    resultsDir: 'reports/allure-results',
    labels: [
      { pattern: [/@severity:(.*)/], name: 'severity' },
      { pattern: [/@epic:(.*)/], name: 'epic' },
      { pattern: [/@feature:(.*)/], name: 'feature' },
      { pattern: [/@story:(.*)/], name: 'story' },
    ],
    links: {
      link: {
        pattern: [/@docs=(.*)/],
        urlTemplate: 'https://docs.cilium.io/en/stable/%s',
        nameTemplate: 'Cilium docs: %s',
      },
      issue: { pattern: [/@issue=(.*)/], urlTemplate: '%s' },
    },
  },
};

export default common;
