import { randomBytes } from 'node:crypto';
import type { Collection } from '../../services/store/store.ts';

/** A form's custom id can't hold an image URL, so the image waits here for the submit. */
const FORM_LIFETIME_MS = 15 * 60_000;

export interface PendingForm {
  imageUrl: string;
  expiresAt: number;
}

/**
 * Images of "Make video" forms shown and not yet submitted, forgotten after 15 minutes. Kept in the
 * store, so the submit may reach another front door than the one that showed the form (several
 * behind a load balancer, on Redis).
 */
export class PendingForms {
  constructor(private readonly forms: Collection<PendingForm>) {}

  /** Keeps the image for a new form; returns the form's id. */
  async open(imageUrl: string, now = Date.now()): Promise<string> {
    const formId = randomBytes(8).toString('base64url');
    await this.forms.set(formId, { imageUrl, expiresAt: now + FORM_LIFETIME_MS }, FORM_LIFETIME_MS);
    return formId;
  }

  async isOpen(formId: string, now = Date.now()): Promise<boolean> {
    const entry = await this.forms.get(formId);
    return entry !== undefined && entry.expiresAt >= now;
  }

  /** The image of a submitted form; the form is closed from then on. */
  async take(formId: string): Promise<string | undefined> {
    const entry = await this.forms.get(formId);
    await this.forms.delete(formId);
    return entry?.imageUrl;
  }
}
