import { ProjectName } from '../../server/src/contract/projects';
import { projectNameProblem } from './name';

describe('projectNameProblem', () => {
  const samples = [
    'demo',
    'Default',
    'a',
    '9lives',
    'my.project_v2-final',
    '',
    '-leading',
    '.hidden',
    'has space',
    'émoji',
    'x'.repeat(64),
    'x'.repeat(65),
    'a/b',
    'tab\t'
  ];

  it.each(samples)('agrees with the contract on %j', (name) => {
    expect(projectNameProblem(name) === null).toBe(ProjectName.safeParse(name).success);
  });

  it('says what is wrong', () => {
    expect(projectNameProblem('')).toBe('Give the project a name.');
    expect(projectNameProblem('has space')).toMatch(/letters, digits/);
    expect(projectNameProblem('x'.repeat(65))).toMatch(/at most 64/);
  });
});
