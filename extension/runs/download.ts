import { apiUrl } from '../request';
import type { IRunlabConnection } from '../tokens';

/** Download a run's artifact with the bearer token (a plain link could not send it). */
export async function downloadArtifact(connection: IRunlabConnection, runId: string, path: string): Promise<void> {
  const response = await fetch(
    apiUrl(connection.settings.serverUrl, `/api/runs/${encodeURIComponent(runId)}/artifacts?path=${encodeURIComponent(path)}`),
    { headers: { Authorization: `Bearer ${connection.settings.token}` } }
  );
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = path.split('/').pop() ?? 'artifact';
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
