/**
 * The API server's error bodies: `Status` objects with the reasons, codes and message formats
 * of the real kube-apiserver (k8s.io/apimachinery/pkg/api/errors).
 */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[] };
  code: number;
}

/** A resource as the API names it in messages: `jobs.batch`, `pods`. */
export interface ResourceRef {
  group: string;
  resource: string;
}

const qualified = (r: ResourceRef) => (r.group ? `${r.resource}.${r.group}` : r.resource);

function failure(
  code: number,
  reason: string,
  message: string,
  details?: Status['details'],
): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details && { details }),
    code,
  };
}

export const statuses = {
  success(ref: ResourceRef, name: string, uid: string): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: ref.group, kind: ref.resource, uid },
      code: 200,
    };
  },
  notFound(ref: ResourceRef, name: string): Status {
    return failure(404, 'NotFound', `${qualified(ref)} "${name}" not found`, {
      name,
      group: ref.group,
      kind: ref.resource,
    });
  },
  namespaceNotFound(namespace: string): Status {
    return failure(404, 'NotFound', `namespaces "${namespace}" not found`, {
      name: namespace,
      kind: 'namespaces',
    });
  },
  pathNotFound(): Status {
    return failure(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  alreadyExists(ref: ResourceRef, name: string): Status {
    return failure(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, {
      name,
      group: ref.group,
      kind: ref.resource,
    });
  },
  /** 422: `Job.batch "x" is invalid: [field: message, ...]`. */
  invalid(kind: string, group: string, name: string, causes: StatusCause[]): Status {
    const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const joined = list.length === 1 ? (list[0] ?? '') : `[${list.join(', ')}]`;
    return failure(
      422,
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${joined}`,
      { name, group, kind, causes },
    );
  },
  badRequest(message: string): Status {
    return failure(400, 'BadRequest', message);
  },
  unauthorized(): Status {
    return failure(401, 'Unauthorized', 'Unauthorized');
  },
  /** 403 as the RBAC authorizer words it, naming the user, verb, resource and namespace. */
  forbidden(
    ref: ResourceRef,
    verb: string,
    user: string,
    namespace: string,
    name?: string,
    subresource?: string,
  ): Status {
    const subject = name ? `${qualified(ref)} "${name}"` : qualified(ref);
    const resource = subresource ? `${ref.resource}/${subresource}` : ref.resource;
    return failure(
      403,
      'Forbidden',
      `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${ref.group}" in the namespace "${namespace}"`,
      { ...(name && { name }), group: ref.group, kind: ref.resource },
    );
  },
  methodNotAllowed(): Status {
    return failure(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  },
  unsupportedMediaType(type: string): Status {
    return failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got "${type}")`,
    );
  },
  /** 410 sent as a watch ERROR event when the requested resourceVersion was compacted away. */
  expired(requested: string, oldest: number): Status {
    return failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
  },
  internal(message: string): Status {
    return failure(500, 'InternalError', `Internal error occurred: ${message}`);
  },
  unavailable(message: string): Status {
    return failure(503, 'ServiceUnavailable', message);
  },
  tooManyRequests(): Status {
    return failure(
      429,
      'TooManyRequests',
      'the server has received too many requests and has asked us to try again later',
    );
  },
  /** API Priority and Fairness rejecting a request its priority level has no room for. */
  flowControlRejected(): Status {
    return failure(429, 'TooManyRequests', 'Too many requests, please try again later.');
  },
  custom(code: number, reason: string, message: string): Status {
    return failure(code, reason, message);
  },
};
