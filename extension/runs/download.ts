import type { IRunlabConnection } from '../tokens';

/** Download a run's artifact with the bearer token (a plain link could not send it). */
export async function downloadArtifact(connection: IRunlabConnection, runId: string, path: string): Promise<void> {
  // A large artifact may take a while to start streaming; the body itself is not timed.
  const content = await connection.api.runs.downloadArtifact({ params: { id: runId }, query: { path } }, { timeoutMs: 60000 });
  const url = URL.createObjectURL(content);
  const link = document.createElement('a');
  link.href = url;
  link.download = path.split('/').pop() ?? 'artifact';
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
