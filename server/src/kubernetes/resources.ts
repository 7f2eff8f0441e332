import type { KubernetesResources } from '../contract';

/**
 * A container's `resources` from Runlab's requests and limits, without the amounts left out
 * and without empty maps (which Kubernetes drops, so a written `{}` would read back as drift).
 */
export function containerResources(resources: KubernetesResources): Record<string, Record<string, string>> {
  const strip = (amounts: Record<string, string | undefined>): Record<string, string> =>
    Object.fromEntries(Object.entries(amounts).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const out: Record<string, Record<string, string>> = {};
  const requests = strip(resources.requests);
  const limits = strip(resources.limits);
  if (Object.keys(requests).length) out.requests = requests;
  if (Object.keys(limits).length) out.limits = limits;
  return out;
}
