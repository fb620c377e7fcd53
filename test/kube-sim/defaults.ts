/**
 * What the API server and the Job controller add to objects: a Job's defaulted fields and
 * selector labels on create, and the pod the controller creates from its template.
 */
import { randomBytes } from 'node:crypto';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { SimJob, SimPod } from './store.ts';

const imageTag = (image: string) => {
  const last = image.split('/').pop() ?? image;
  return last.includes('@') ? 'digest' : (last.split(':')[1] ?? 'latest');
};

function defaultContainer(c: IContainer): IContainer {
  return {
    ...c,
    terminationMessagePath: c.terminationMessagePath ?? '/dev/termination-log',
    terminationMessagePolicy: c.terminationMessagePolicy ?? 'File',
    imagePullPolicy:
      c.imagePullPolicy ?? (imageTag(c.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent'),
    resources: c.resources ?? {},
  };
}

/** The Job as stored: defaults filled in, and the controller's selector and template labels. */
export function defaultJob(job: SimJob, uid: string): SimJob {
  const spec = job.spec ?? { template: {} };
  const podSpec = spec.template.spec ?? { containers: [] };
  const selectorLabels = {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': job.metadata.name,
    'controller-uid': uid,
    'job-name': job.metadata.name,
  };
  return {
    ...job,
    metadata: { ...job.metadata, generation: 1 },
    spec: {
      ...spec,
      parallelism: spec.parallelism ?? 1,
      completions: spec.completions ?? 1,
      backoffLimit: spec.backoffLimit ?? 6,
      completionMode: spec.completionMode ?? 'NonIndexed',
      suspend: spec.suspend ?? false,
      manualSelector: spec.manualSelector,
      podReplacementPolicy: spec.podReplacementPolicy ?? 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: {
        metadata: {
          // The API server writes the template's unset creationTimestamp out as null.
          creationTimestamp: null as unknown as string,
          ...spec.template.metadata,
          labels: { ...spec.template.metadata?.labels, ...selectorLabels },
        },
        spec: {
          ...podSpec,
          ...(podSpec.initContainers && {
            initContainers: podSpec.initContainers.map(defaultContainer),
          }),
          containers: podSpec.containers.map(defaultContainer),
          dnsPolicy: podSpec.dnsPolicy ?? 'ClusterFirst',
          schedulerName: podSpec.schedulerName ?? 'default-scheduler',
          securityContext: podSpec.securityContext ?? {},
          terminationGracePeriodSeconds: podSpec.terminationGracePeriodSeconds ?? 30,
        },
      },
    },
    status: {},
  };
}

/** A pod for the Job, named as the controller names them: `<job>-<5 random characters>`. */
export function podForJob(job: SimJob): SimPod {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const suffix = [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
  // generateName keeps at most 58 characters of the base so that the name stays within 63.
  const base = `${job.metadata.name}-`.slice(0, 58);
  const template = job.spec?.template ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${base}${suffix}`,
      generateName: base,
      namespace: job.metadata.namespace,
      uid: '',
      resourceVersion: '',
      creationTimestamp: '',
      labels: template.metadata?.labels ?? {},
      ...(template.metadata?.annotations && { annotations: template.metadata.annotations }),
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: job.metadata.name,
          uid: job.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      ...(template.spec ?? { containers: [] }),
      enableServiceLinks: template.spec?.enableServiceLinks ?? true,
    },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}
