/**
 * A notebook's parameters as its first code cell tagged `parameters` declares them, read by the
 * contract's one parser (server/src/contract/parameters.ts, which the server checks jobs with),
 * in declaration order for the Run dialog.
 */
import { declaredParameters as declaredByName, type DeclaredParameter } from '../../server/src/contract/parameters';

export {
  LiteralError,
  PARAMETERS_TAG,
  parametersCell as parametersCellSource,
  parsePythonLiteral
} from '../../server/src/contract/parameters';
export type { ParameterType } from '../../server/src/contract/parameters';
export type IDeclaredParameter = DeclaredParameter;

/** The declared parameters, in the order the cell declares them (a later assignment wins). */
export function declaredParameters(notebook: object): IDeclaredParameter[] {
  return [...declaredByName(notebook as Record<string, unknown>).values()];
}
