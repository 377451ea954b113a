/** What one `POST /videos` asks for, apart from the client so each variant's body can read it. */

/** The starting image: uploaded as a multipart file part, or named by a URL (a data: URL works too). */
export type ReferenceImage = { bytes: Uint8Array; contentType: string; fileName: string } | { url: string };

export interface CreateVideoJobRequest {
  prompt: string;
  model: string;
  /** Sent as a string (`"8"`), as the API wants, whichever type is given. */
  seconds?: string | number;
  /** `"1280x720"` landscape, `"720x1280"` portrait. */
  size?: string;
  image?: ReferenceImage;
  /** OpenRouter's `aspect_ratio` (it takes no `size`). */
  aspectRatio?: string;
  /** OpenRouter's `resolution`, e.g. `720p`. */
  resolution?: string;
}
