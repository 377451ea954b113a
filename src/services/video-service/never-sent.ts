/**
 * Whether a failed request surely never reached the video service, so sending it again cannot pay
 * for a second video. Only failures that happen before a byte of the request is written count:
 * anything later (a reset, a timeout, a 5xx) may come from a service that already took the job.
 */

/** Errors that only happen before a byte of the request is written. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function surelyNeverSent(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NOT_SENT_CODES.has(code);
}

/** An HTTP answer that says the service refused the request outright (429 and other 4xx): no job exists. */
export function isRefusalStatus(status: number): boolean {
  return status >= 400 && status < 500;
}
