/**
 * The custom ids of a job's buttons: `<prefix>:<jobId>`. The renderer puts them on the message and
 * the front doors route on them, so they live apart from both.
 */
export const JOB_BUTTON = {
  cancel: 'cancel',
  retry: 'retry',
  remix: 'remix',
} as const;
