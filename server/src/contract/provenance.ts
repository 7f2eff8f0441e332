import { z } from 'zod';
import { QueryWholeNumber } from './refs';
import { route } from './route';

/**
 * Kinds of provenance nodes. Later features add theirs (model_version, deployment) here and
 * register a resolver on the server; edges and queries do not change.
 */
export const ProvenanceNodeKind = z.enum(['dataset_version', 'run', 'artifact', 'model_version', 'deployment', 'alert']);
export type ProvenanceNodeKind = z.infer<typeof ProvenanceNodeKind>;

/**
 * A node reference, `kind:id`: `run:<runId>`, `dataset_version:<versionId>`,
 * `artifact:<runId>/<artifact path>`, `model_version:<versionId>`, `deployment:<deploymentId>`.
 */
export const ProvenanceNodeRef = z
  .string()
  .min(3)
  .max(1200)
  // `.` spelled out as what it means here (no line breaks): other readers of the documented
  // pattern (Python's re) take `.` to allow \r, U+2028 and U+2029.
  .regex(
    /^(dataset_version|run|artifact|model_version|deployment|alert):[^\n\r\u2028\u2029]+$/,
    'kind:id, e.g. run:<id> or dataset_version:<id>'
  );

export const ProvenanceNode = z.strictObject({
  ref: z.string(),
  kind: ProvenanceNodeKind,
  /** What the UI shows first: `iris@v3`, a run's name, an artifact's path. */
  label: z.string(),
  /** A second line: size and file count, run status, artifact size. */
  detail: z.string(),
  projectName: z.string(),
  createdAt: z.string().nullable(),
  /** Set for runs and artifacts (the run that holds the artifact). */
  runId: z.string().nullable(),
  /** Set for dataset versions. */
  datasetName: z.string().nullable(),
  versionNumber: z.number().int().nullable(),
  /** Set for artifacts. */
  artifactPath: z.string().nullable(),
  /** Set for model versions (and the model a deployment serves). */
  modelName: z.string().nullable().default(null)
});
export type ProvenanceNode = z.infer<typeof ProvenanceNode>;

export const ProvenanceEdge = z.strictObject({ from: z.string(), to: z.string() });
export type ProvenanceEdge = z.infer<typeof ProvenanceEdge>;

export const ProvenanceQuery = z.strictObject({
  node: ProvenanceNodeRef,
  direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
  depth: QueryWholeNumber.pipe(z.number().int().min(1).max(50)).default(20)
});
export type ProvenanceQuery = z.input<typeof ProvenanceQuery>;

export const ProvenanceGraph = z.strictObject({
  root: z.string(),
  nodes: z.array(ProvenanceNode),
  /**
   * `from` was used to make `to`: dataset version → run, run → dataset version / artifact /
   * model version, model version → deployment.
   */
  edges: z.array(ProvenanceEdge),
  /** true when the graph was cut at 500 nodes. */
  truncated: z.boolean()
});
export type ProvenanceGraph = z.infer<typeof ProvenanceGraph>;

export const provenanceApi = {
  getProvenance: route({
    method: 'get',
    path: '/api/provenance',
    summary: 'What a node was made from (upstream) and what was made from it (downstream), up to 500 nodes',
    tag: 'provenance',
    scope: 'any',
    query: ProvenanceQuery,
    status: 200,
    response: ProvenanceGraph,
    errors: ['not_found']
  })
};
