/**
 * Each project's git repository: a bare repository at `<dataDir>/projects/<id>.git`, written with
 * isomorphic-git (no git binary needed) in a layout real git can clone, log and fsck.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';

export const MAIN_BRANCH = 'main';
const MAIN_REF = `refs/heads/${MAIN_BRANCH}`;
const AUTHOR = { name: 'Runlab', email: 'runlab@localhost' };

export class ProjectRepositories {
  /** Repositories are built here first; same file system as `root`, so rename is atomic. */
  private readonly staging: string;

  constructor(private readonly root: string) {
    this.staging = path.join(root, '.staging');
  }

  pathOf(projectId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(projectId)) throw new Error(`Unsafe project id ${JSON.stringify(projectId)}`);
    return path.join(this.root, `${projectId}.git`);
  }

  /**
   * Creates the repository with one commit on `main` holding README.md; returns the commit sha.
   * It is built in a staging directory and renamed into place, so a crash never leaves a
   * half-initialised repository under the project's name.
   */
  async create(projectId: string, name: string, description: string): Promise<string> {
    const target = this.pathOf(projectId);
    await fs.promises.mkdir(this.staging, { recursive: true, mode: 0o700 });
    const gitdir = path.join(this.staging, `${projectId}-${randomBytes(4).toString('hex')}.git`);
    try {
      await git.init({ fs, gitdir, bare: true, defaultBranch: MAIN_BRANCH });
      const readme = await git.writeBlob({
        fs,
        gitdir,
        blob: Buffer.from(`# ${name}\n\n${description}\n`, 'utf8')
      });
      const tree = await git.writeTree({
        fs,
        gitdir,
        tree: [{ mode: '100644', path: 'README.md', oid: readme, type: 'blob' }]
      });
      const signature = {
        ...AUTHOR,
        timestamp: Math.floor(Date.now() / 1000),
        timezoneOffset: 0
      };
      const commit = await git.writeCommit({
        fs,
        gitdir,
        commit: {
          message: `Create project ${name}\n`,
          tree,
          parent: [],
          author: signature,
          committer: signature
        }
      });
      await git.writeRef({ fs, gitdir, ref: MAIN_REF, value: commit, force: true });
      await fs.promises.rename(gitdir, target);
      return commit;
    } catch (error) {
      await fs.promises.rm(gitdir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The sha `main` points at, or null if the repository or branch is missing. */
  async headCommit(projectId: string): Promise<string | null> {
    try {
      return await git.resolveRef({ fs, gitdir: this.pathOf(projectId), ref: MAIN_REF });
    } catch {
      return null;
    }
  }

  async remove(projectId: string): Promise<void> {
    await fs.promises.rm(this.pathOf(projectId), { recursive: true, force: true });
  }
}
