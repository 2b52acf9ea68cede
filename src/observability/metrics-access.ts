// Who may read /metrics, decided by the API server as controller-runtime's secure metrics serving does
// (pkg/metrics/filters): the bearer token checked with a TokenReview, then its user's right to `get` the
// non-resource URL `/metrics` with a SubjectAccessReview (what a ClusterRole with nonResourceURLs grants).
// Answers are kept briefly, as controller-runtime keeps them (a token 1 minute, an allowed user 5 minutes, a denied
// one 30 seconds), so that a scrape every 15 s does not cost two API calls each time.
import { createHash } from 'node:crypto';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  type KubeConfig,
  type V1UserInfo,
} from '@kubernetes/client-node';
import { makeKubeApi } from '../controller/kube-http.js';
import { ExpiringCache } from '../runtime/expiring-cache.js';

export interface AccessDecision {
  status: 200 | 401 | 403 | 500;
  /** Said to the client when refused; never holds the token. */
  message: string;
}

/** The two API calls a decision takes: replaceable to count them in tests, never to fake them. */
export interface AccessReviews {
  /** The user a token authenticates, or undefined when the API server does not accept it. */
  reviewToken(token: string): Promise<V1UserInfo | undefined>;
  /** Whether the user may use `verb` on the non-resource URL `path`. */
  reviewAccess(user: V1UserInfo, verb: string, path: string): Promise<boolean>;
}

export function kubeAccessReviews(kubeConfig: KubeConfig): AccessReviews {
  const authentication = makeKubeApi(kubeConfig, AuthenticationV1Api);
  const authorization = makeKubeApi(kubeConfig, AuthorizationV1Api);
  return {
    async reviewToken(token) {
      const review = await authentication.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      });
      return review.status?.authenticated ? (review.status.user ?? {}) : undefined;
    },
    async reviewAccess(user, verb, path) {
      const review = await authorization.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            nonResourceAttributes: { path, verb },
          },
        },
      });
      return review.status?.allowed === true;
    },
  };
}

export const ACCESS_CACHE_TTL_MS = { token: 60_000, allowed: 5 * 60_000, denied: 30_000 };
/** Entries each cache holds at most: enough for every scraper there is, bounded against a flood of tokens. */
export const ACCESS_CACHE_SIZE = 1024;

export class MetricsAccess {
  // Keyed by the token's hash: the tokens themselves are not kept.
  private readonly users: ExpiringCache<V1UserInfo | null>;
  private readonly decisions: ExpiringCache<boolean>;

  private readonly onError: (what: string, error: unknown) => void;

  constructor(
    private readonly reviews: AccessReviews,
    options: { now?: () => number; onError?: (what: string, error: unknown) => void } = {},
  ) {
    const now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
    this.users = new ExpiringCache(ACCESS_CACHE_SIZE, now);
    this.decisions = new ExpiringCache(ACCESS_CACHE_SIZE, now);
  }

  /** The decision on a request with this Authorization header, HTTP method and path. */
  async decide(authorization: string | undefined, method: string, path: string): Promise<AccessDecision> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) return { status: 401, message: 'Unauthorized: a bearer token is needed' };
    const tokenKey = createHash('sha256').update(token).digest('hex');
    let user = this.users.get(tokenKey);
    if (user === undefined) {
      try {
        user = (await this.reviews.reviewToken(token)) ?? null;
      } catch (error) {
        // As controller-runtime: a review that could not be made is a 401, and is not kept.
        this.onError('TokenReview', error);
        return { status: 401, message: 'Unauthorized: the token could not be reviewed' };
      }
      this.users.set(tokenKey, user, ACCESS_CACHE_TTL_MS.token);
    }
    if (user === null) return { status: 401, message: 'Unauthorized' };
    const verb = method.toLowerCase();
    const decisionKey = JSON.stringify([user.username, user.uid, user.groups, user.extra, verb, path]);
    let allowed = this.decisions.get(decisionKey);
    if (allowed === undefined) {
      try {
        allowed = await this.reviews.reviewAccess(user, verb, path);
      } catch (error) {
        this.onError('SubjectAccessReview', error);
        return { status: 500, message: 'Authorization failed: the access review could not be made' };
      }
      this.decisions.set(
        decisionKey,
        allowed,
        allowed ? ACCESS_CACHE_TTL_MS.allowed : ACCESS_CACHE_TTL_MS.denied,
      );
    }
    return allowed
      ? { status: 200, message: 'ok' }
      : { status: 403, message: `Forbidden: user "${user.username}" may not ${verb} ${path}` };
  }
}
