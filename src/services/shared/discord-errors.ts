import { DiscordAPIError, HTTPError, RESTJSONErrorCodes } from 'discord.js';

/**
 * What a Discord REST error means, for the REST layer and the front doors alike: one reading of
 * Discord's codes and statuses.
 */

export function discordErrorCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
}

function discordStatus(error: unknown): number | undefined {
  return error instanceof DiscordAPIError || error instanceof HTTPError ? error.status : undefined;
}

export function isUploadTooLarge(error: unknown): boolean {
  return discordStatus(error) === 413 || discordErrorCode(error) === RESTJSONErrorCodes.RequestEntityTooLarge;
}

/** The interaction token stopped working (expired, or Discord dropped it early). */
export function isDeadToken(error: unknown): boolean {
  const code = discordErrorCode(error);
  return (
    code === RESTJSONErrorCodes.InvalidWebhookToken ||
    code === RESTJSONErrorCodes.UnknownWebhook ||
    (discordStatus(error) === 401 && code === undefined)
  );
}

export function isUnknownMessage(error: unknown): boolean {
  return discordErrorCode(error) === RESTJSONErrorCodes.UnknownMessage;
}

export function isMissingPermission(error: unknown): boolean {
  const code = discordErrorCode(error);
  return code === RESTJSONErrorCodes.MissingPermissions || code === RESTJSONErrorCodes.MissingAccess;
}

/** Discord refused the payload itself (a link button's URL, for one); nothing was posted. */
export function isInvalidFormBody(error: unknown): boolean {
  return discordErrorCode(error) === RESTJSONErrorCodes.InvalidFormBodyOrContentType;
}

/**
 * Worth sending again: Discord had trouble (5xx past @discordjs/rest's own retries) or the request
 * never got an answer (network error, timeout). Any other answer would only come back the same.
 */
export function isTransient(error: unknown): boolean {
  const status = discordStatus(error);
  if (status !== undefined) return status >= 500;
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'AbortError' ||
    error.name === 'TimeoutError' ||
    typeof (error as NodeJS.ErrnoException).code === 'string'
  );
}
