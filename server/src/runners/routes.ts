import { Readable } from 'node:stream';
import type { Request } from 'express';
import { runnersApi } from '../contract';
import { implement, RawReply, type Principal, type Route } from '../http/registry';
import type { RunnerService } from './service';

/** The server's URL as the caller reached it: what a runner on the same network should use. */
const serverUrlOf = (request: Request): string => `${request.protocol}://${request.get('host') ?? 'localhost'}`;

export function runnerRoutes(runners: RunnerService): Route[] {
  return implement(runnersApi, {
    listRunners: () => ({ runners: runners.listRunners() }),
    addRunner: ({ body, principal, request }) => runners.addRunner(body, principal as Principal, serverUrlOf(request)),
    getRunner: ({ params }) => runners.getRunner(params.id),
    drainRunner: ({ params }) => runners.drainRunner(params.id),
    removeRunner: ({ params }) => {
      runners.removeRunner(params.id);
      return undefined;
    },
    submitJob: ({ body }) => runners.submit(body),
    listJobs: ({ query }) => runners.listJobs(query),
    getJob: ({ params }) => runners.getJob(params.id),
    cancelJob: ({ params }) => runners.cancelJob(params.id),
    getJobLog: ({ params }) => {
      const text = Buffer.from(runners.jobLog(params.id), 'utf8');
      return new RawReply(Readable.from([text]), 'text/plain; charset=utf-8', text.length);
    },
    rerunRun: ({ params, body }) => runners.rerun(params.id, body),
    getAttemptNotebook: ({ params, principal }) => runners.attemptNotebook(params.id, principal as Principal),
    putExecutedNotebook: async ({ params, principal, body }) => {
      await runners.putExecutedNotebook(params.id, principal as Principal, body);
      return undefined;
    }
  });
}
