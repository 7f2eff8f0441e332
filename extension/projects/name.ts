/**
 * The contract's ProjectName rule (server/src/contract/projects.ts), checked in the browser so
 * a name is refused as it is typed. The extension does not bundle zod, so the rule is repeated
 * here; name.test.ts checks that the two agree.
 */

export const PROJECT_NAME_MAX_LENGTH = 64;
const PROJECT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `name` cannot name a project, in a sentence; null when it can. */
export function projectNameProblem(name: string): string | null {
  if (name.length === 0) {
    return 'Give the project a name.';
  }
  if (name.length > PROJECT_NAME_MAX_LENGTH) {
    return `A project name has at most ${PROJECT_NAME_MAX_LENGTH} characters.`;
  }
  if (!PROJECT_NAME_PATTERN.test(name)) {
    return 'A project name starts with a letter or digit and uses only letters, digits, . _ and -.';
  }
  return null;
}
