/**
 * Writes snapshot commits straight into a project's bare repository with isomorphic-git:
 * blobs, then only the trees on the changed paths (the rest of the previous head's tree is
 * reused by oid), then the commit and the ref. No working tree, no index.
 */
import fs from 'node:fs';
import git from 'isomorphic-git';
import type { ProjectRepositories } from '../projects/repository';

const MAIN_REF = 'refs/heads/main';
const AUTHOR = { name: 'Runlab', email: 'runlab@localhost' };

interface TreeEntry {
  mode: string;
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

export class SnapshotStore {
  constructor(private readonly repositories: ProjectRepositories) {}

  /**
   * Commits `files` (path → content) on top of `main`. When the resulting tree equals the
   * head's, nothing is written and the head commit is returned with `reused: true`. Callers
   * serialise commits per project (the ref update is a read-modify-write).
   */
  async commit(projectId: string, files: ReadonlyMap<string, Buffer>, message: string): Promise<{ commit: string; reused: boolean }> {
    const gitdir = this.repositories.pathOf(projectId);
    const cache = {};
    const head = await git.resolveRef({ fs, gitdir, ref: MAIN_REF }).catch(() => null);
    const headTree = head ? (await git.readCommit({ fs, gitdir, oid: head, cache })).commit.tree : null;
    const blobs = new Map<string, string>();
    for (const [path, content] of files) blobs.set(path, await git.writeBlob({ fs, gitdir, blob: content }));
    const tree = await this.updateTree(gitdir, headTree, blobs, cache);
    if (head && tree === headTree) return { commit: head, reused: true };
    const signature = { ...AUTHOR, timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
    const commit = await git.writeCommit({
      fs,
      gitdir,
      commit: { message, tree, parent: head ? [head] : [], author: signature, committer: signature }
    });
    await git.writeRef({ fs, gitdir, ref: MAIN_REF, value: commit, force: true });
    return { commit, reused: false };
  }

  /** The content of `path` at `commit`, or null when the commit has no such file. */
  async read(projectId: string, commit: string, path: string): Promise<Buffer | null> {
    try {
      const { blob } = await git.readBlob({ fs, gitdir: this.repositories.pathOf(projectId), oid: commit, filepath: path });
      return Buffer.from(blob);
    } catch (error) {
      if ((error as { code?: string }).code === 'NotFoundError') return null;
      throw error;
    }
  }

  /** Whether `commit` is a commit of the project's repository. */
  async hasCommit(projectId: string, commit: string): Promise<boolean> {
    try {
      await git.readCommit({ fs, gitdir: this.repositories.pathOf(projectId), oid: commit });
      return true;
    } catch (error) {
      if (['NotFoundError', 'ObjectTypeError'].includes((error as { code?: string }).code ?? '')) return false;
      throw error;
    }
  }

  /** Every file path in the commit's tree (sorted), or those `keep` accepts. */
  async paths(projectId: string, commit: string, keep: (path: string) => boolean = () => true): Promise<string[]> {
    const gitdir = this.repositories.pathOf(projectId);
    const found: string[] = [];
    const walk = async (oid: string, prefix: string): Promise<void> => {
      for (const entry of (await git.readTree({ fs, gitdir, oid })).tree) {
        const path = prefix + entry.path;
        if (entry.type === 'tree') await walk(entry.oid, `${path}/`);
        else if (entry.type === 'blob' && keep(path)) found.push(path);
      }
    };
    await walk((await git.readCommit({ fs, gitdir, oid: commit })).commit.tree, '');
    return found.sort();
  }

  /** `base` with each path in `blobs` set to its blob; unchanged subtrees keep their oids. */
  private async updateTree(gitdir: string, base: string | null, blobs: ReadonlyMap<string, string>, cache: object): Promise<string> {
    const entries = new Map<string, TreeEntry>();
    if (base) {
      for (const entry of (await git.readTree({ fs, gitdir, oid: base, cache })).tree) entries.set(entry.path, entry);
    }
    const nested = new Map<string, Map<string, string>>();
    for (const [path, oid] of blobs) {
      const slash = path.indexOf('/');
      if (slash === -1) {
        entries.set(path, { mode: '100644', path, oid, type: 'blob' });
        continue;
      }
      const directory = path.slice(0, slash);
      if (!nested.has(directory)) nested.set(directory, new Map());
      nested.get(directory)!.set(path.slice(slash + 1), oid);
    }
    for (const [directory, children] of nested) {
      const existing = entries.get(directory);
      const subtree = await this.updateTree(gitdir, existing?.type === 'tree' ? existing.oid : null, children, cache);
      entries.set(directory, { mode: '040000', path: directory, oid: subtree, type: 'tree' });
    }
    return git.writeTree({ fs, gitdir, tree: [...entries.values()] });
  }
}
