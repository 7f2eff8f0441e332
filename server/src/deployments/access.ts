/**
 * What a deployment token reaches: the one deployment it was made for (its spec, its versions'
 * files, its telemetry), nothing else. The route's scope already refused other tokens; this
 * checks that the token asks about its own deployment.
 */
import { AppError } from '../http/errors';
import type { Principal } from '../http/registry';
import type { DeploymentRecord, DeploymentStore } from './store';

export function deploymentOfToken(store: DeploymentStore, principal: Principal, deploymentId: string): DeploymentRecord {
  const own = store.findByToken(principal.tokenId);
  if (!own || own.status === 'stopped') {
    throw new AppError('forbidden', `Deployment token "${principal.name}" belongs to no live deployment (it was undeployed or replaced)`);
  }
  if (own.id !== deploymentId) {
    throw new AppError(
      'forbidden',
      `Deployment token "${principal.name}" reaches only its own deployment ${own.name} (${own.id}), not deployment ${deploymentId}`
    );
  }
  return own;
}
