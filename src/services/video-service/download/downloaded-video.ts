/** A video fetched from the service, ready to upload. */
export interface DownloadedVideo {
  fileName: string;
  bytes: Buffer;
  contentType: string;
}

/** Why a video reached the member as a link instead of a file. */
export type LinkReason =
  | 'too-large'
  | 'upload-refused'
  | 'upload-failed'
  | 'download-failed'
  | 'download-refused';
