// Evaluates a JSON batch of cases with the compiled drift statistics (server/dist/monitoring/
// statistics.js) for python/tests/test_monitoring_statistics.py: reads [{name, args}, ...] from
// stdin, prints [result, ...]. Float arrays travel as plain JSON arrays.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const statistics = require(path.join(here, '..', '..', 'server', 'dist', 'monitoring', 'statistics.js'));

const sortedCopy = (values) => Float64Array.from(values).sort();

const evaluators = {
  ks: ({ a, b }) => statistics.ksTwoSample(Float64Array.from(a), Float64Array.from(b)),
  ksAgainstSorted: ({ a, b }) => statistics.ksAgainstSortedSample(Float64Array.from(a), sortedCopy(b)),
  kolmogorovSurvival: ({ d, n }) => statistics.kolmogorovSurvival(d, n),
  kolmogorovCumulative: ({ d, n }) => statistics.kolmogorovCumulative(d, n),
  smirnovSurvival: ({ n, d }) => statistics.smirnovSurvival(n, d),
  chiSquare: ({ observed, expected }) => statistics.chiSquare(observed, expected),
  wasserstein: ({ u, v, uWeights, vWeights }) => statistics.wassersteinDistance(u, v, uWeights ?? undefined, vWeights ?? undefined),
  wassersteinOnUniformBins: ({ u, v, width }) => statistics.wassersteinOnUniformBins(u, v, width),
  jensenShannon: ({ p, q, base }) => statistics.jensenShannonDistance(p, q, base),
  psi: ({ expected, actual, epsilon }) => statistics.populationStabilityIndex(expected, actual, epsilon),
  benjaminiHochberg: ({ pValues }) => statistics.benjaminiHochberg(pValues)
};

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) {
  input += chunk;
}
const results = JSON.parse(input).map(({ name, args }) => {
  try {
    return { value: evaluators[name](args) };
  } catch (error) {
    return { error: String(error) };
  }
});
process.stdout.write(JSON.stringify(results));
