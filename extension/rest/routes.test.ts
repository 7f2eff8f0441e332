/** The generated route table against the contract it is generated from (scripts/generate-api.mjs). */
import { api, type RouteContract } from '../../server/src/contract';
import { routes } from './routes';

test("the extension's route table lists exactly the contract's operations, with their methods and paths", () => {
  const table = Object.entries(routes).flatMap(([feature, group]) =>
    Object.entries(group as Record<string, { method: string; path: string; raw?: boolean }>).map(
      ([operationId, entry]) => `${feature}.${operationId} ${entry.method} ${entry.path}${entry.raw ? ' raw' : ''}`
    )
  );
  const contract = Object.entries(api).flatMap(([feature, group]) =>
    Object.entries(group as Record<string, RouteContract>).map(
      ([operationId, declared]) => `${feature}.${operationId} ${declared.method} ${declared.path}${declared.rawResponse ? ' raw' : ''}`
    )
  );
  expect(table).toEqual(contract);
});
