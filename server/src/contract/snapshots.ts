import { z } from 'zod';
import { IdParams, RELATIVE_PATH_PATTERN, RelativePath } from './refs';
import { route } from './route';

/** A run's snapshot: where its notebook and local modules were committed. */
export const RunSnapshot = z.strictObject({
  /** The commit in the project's git repository holding the notebook and local modules. */
  commit: z.string(),
  notebookPath: z.string(),
  /**
   * The files this snapshot wrote (the notebook and the local modules the kernel imported),
   * sorted. The commit's tree also keeps the project's other files from earlier commits.
   */
  files: z.array(z.string()),
  /** True when an identical earlier snapshot's commit was reused. */
  reused: z.boolean()
});
export type RunSnapshot = z.infer<typeof RunSnapshot>;

export const SnapshotFile = z.strictObject({
  /** Project-relative path; never absolute, never `..`. */
  path: RelativePath,
  content: z.string()
});

/** How deep a notebook's JSON may nest: far beyond nbformat's needs, far below a stack overflow. */
export const MAX_NOTEBOOK_DEPTH = 1000;

/** How deeply a JSON value nests (objects and arrays), counted without recursion; stops past `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push([child, level]);
    }
  }
  return deepest;
}

/**
 * The notebook exactly as the user sees it (unsaved edits included) plus the project-local
 * modules its kernel imported. Sent by the browser tab that started the run, or by the Python
 * client for scripts.
 */
/** A path in a snapshot commit: a relative path with no `.git` segment (in any case), which git reserves. */
export const SnapshotPath = RelativePath.meta({
  pattern: String.raw`^(?!(?:[^/]*/)*\.[Gg][Ii][Tt](?:/|$))` + RELATIVE_PATH_PATTERN.slice(1),
  description: 'A relative path (as for artifacts) with no `.git` segment in any letter case.'
});

export const CreateSnapshotRequest = z
  .strictObject({
    notebookPath: SnapshotPath,
    /** nbformat JSON of a notebook, or null when the run came from a script (in `files`). */
    notebook: z
      .record(z.string(), z.unknown())
      .refine((notebook) => nestingDepth(notebook, MAX_NOTEBOOK_DEPTH) <= MAX_NOTEBOOK_DEPTH, {
        message: `is nested more than ${MAX_NOTEBOOK_DEPTH} levels deep; nbformat notebooks need far fewer`
      })
      .meta({ description: `nbformat JSON, nested at most ${MAX_NOTEBOOK_DEPTH} levels deep.` })
      .nullable()
      .default(null),
    files: z
      .array(SnapshotFile.extend({ path: SnapshotPath }))
      .max(1000)
      .default([])
  })
  .meta({
    description:
      'Also checked, beyond this schema: no path given twice (notebookPath counts when notebook is set), no path inside ' +
      'another given path (a file cannot also be a folder), and without a notebook, notebookPath must be one of the files.'
  });
export type CreateSnapshotRequest = z.input<typeof CreateSnapshotRequest>;

export const SnapshotNotebookResponse = z.strictObject({
  commit: z.string(),
  notebookPath: z.string(),
  notebook: z.record(z.string(), z.unknown())
});
export type SnapshotNotebookResponse = z.infer<typeof SnapshotNotebookResponse>;

export const snapshotsApi = {
  createSnapshot: route({
    method: 'post',
    path: '/api/runs/:id/snapshot',
    summary: "Commit the run's notebook (outputs stripped) and local modules to the project repository",
    tag: 'snapshots',
    scope: 'user',
    params: IdParams,
    body: CreateSnapshotRequest,
    largeBody: true,
    status: 201,
    response: RunSnapshot,
    errors: ['not_found', 'conflict']
  }),
  getSnapshotNotebook: route({
    method: 'get',
    path: '/api/runs/:id/snapshot/notebook',
    summary: "The notebook as committed in the run's snapshot",
    tag: 'snapshots',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: SnapshotNotebookResponse,
    errors: ['not_found']
  })
};
