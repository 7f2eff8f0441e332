/** Projects: a database row plus a git repository, kept consistent with each other. */
import { randomUUID } from 'node:crypto';
import type { Project } from '../contract';
import { AppError, notFound } from '../http/errors';
import type { DomainEvents } from '../realtime/events';
import type { ProjectRepositories } from './repository';
import { isUniqueViolation, type ProjectRecord, type ProjectStore } from './store';

const duplicateName = (name: string): AppError => new AppError('conflict', `A project named "${name}" already exists; choose another name`);

export class ProjectService {
  constructor(
    private readonly store: ProjectStore,
    private readonly repositories: ProjectRepositories,
    private readonly events: DomainEvents,
    private readonly now: () => Date = () => new Date()
  ) {}

  private async withHead(record: ProjectRecord): Promise<Project> {
    return { ...record, headCommit: await this.repositories.headCommit(record.id) };
  }

  async list(filter: { name?: string } = {}): Promise<Project[]> {
    return Promise.all(this.store.list(filter).map((record) => this.withHead(record)));
  }

  async get(id: string): Promise<Project> {
    const record = this.store.findById(id);
    if (!record) throw notFound(`Project ${id}`);
    return this.withHead(record);
  }

  async create(input: { name: string; description: string }): Promise<Project> {
    // Checked first so a duplicate never costs a repository; the UNIQUE constraint still
    // decides races between two concurrent creates.
    if (this.store.findByName(input.name)) throw duplicateName(input.name);
    const id = randomUUID();
    const headCommit = await this.repositories.create(id, input.name, input.description);
    const at = this.now().toISOString();
    const record: ProjectRecord = { id, ...input, createdAt: at, updatedAt: at };
    try {
      this.store.insert(record);
    } catch (error) {
      // No row, no repository: never leave one without the other.
      await this.repositories.remove(id);
      throw isUniqueViolation(error) ? duplicateName(input.name) : error;
    }
    const project: Project = { ...record, headCommit };
    this.events.publish('project:created', project);
    return project;
  }

  /**
   * The project with this name, created (with its repository) on first use; runs name their
   * project, so logging to a new name just works. Two racing first uses both end up with the
   * one project the UNIQUE constraint let through.
   */
  async ensure(name: string): Promise<{ id: string; name: string }> {
    const existing = this.store.findByName(name);
    if (existing) return { id: existing.id, name: existing.name };
    try {
      const created = await this.create({ name, description: '' });
      return { id: created.id, name: created.name };
    } catch (error) {
      const raced = error instanceof AppError && error.code === 'conflict' ? this.store.findByName(name) : undefined;
      if (raced) return { id: raced.id, name: raced.name };
      throw error;
    }
  }

  /** Renames and/or re-describes a project. The repository keeps its path (it is keyed by id). */
  async update(id: string, changes: { name?: string; description?: string }): Promise<Project> {
    const existing = this.store.findById(id);
    if (!existing) throw notFound(`Project ${id}`);
    const updated: ProjectRecord = {
      ...existing,
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      updatedAt: this.now().toISOString()
    };
    try {
      this.store.update(updated);
    } catch (error) {
      throw isUniqueViolation(error) ? duplicateName(updated.name) : error;
    }
    const project = await this.withHead(updated);
    this.events.publish('project:updated', project);
    return project;
  }

  async delete(id: string): Promise<void> {
    if (!this.store.delete(id)) throw notFound(`Project ${id}`);
    // The row is gone first, so a failure below leaves an orphan directory, never a project
    // whose repository is missing.
    await this.repositories.remove(id);
    this.events.publish('project:deleted', { id });
  }
}
