/**
 * Duo's rate limit as the simulator models it: a token bucket per integration key and endpoint.
 * Duo answers 429/42901 without `Retry-After` once a bucket is empty.
 */
export interface DuoRateLimit {
  /** Takes a token from the bucket; false when it is empty (the request is answered 429). */
  allow(bucketKey: string): boolean;
  /** Milliseconds until the bucket holds a token again (0 when it holds one now). */
  msUntilToken(bucketKey: string): number;
}

/** Unlimited when `requestsPerMinute` is undefined; `burst` defaults to one second's worth (at least 1). */
export function duoRateLimit(requestsPerMinute: number | undefined, burst: number | undefined): DuoRateLimit {
  if (requestsPerMinute === undefined) return { allow: () => true, msUntilToken: () => 0 };
  const perMs = requestsPerMinute / 60_000;
  const capacity = Math.max(1, burst ?? Math.ceil(requestsPerMinute / 60));
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refilled = (bucketKey: string) => {
    const now = Date.now();
    const bucket = buckets.get(bucketKey) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    buckets.set(bucketKey, bucket);
    return bucket;
  };
  return {
    allow(bucketKey: string): boolean {
      const bucket = refilled(bucketKey);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    msUntilToken(bucketKey: string): number {
      return Math.max(0, (1 - refilled(bucketKey).tokens) / perMs);
    },
  };
}
