/** The errors the front doors answer with their own words, apart from the rooms that raise them. */

/** The store did not answer in time or is unreachable: nothing was decided, try again later. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
