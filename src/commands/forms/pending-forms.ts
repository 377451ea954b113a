import { randomBytes } from 'node:crypto';

/** A form's custom id can't hold an image URL, so the image waits here for the submit. */
const FORM_LIFETIME_MS = 15 * 60_000;

interface PendingForm {
  imageUrl: string;
  expiresAt: number;
}

/** Images of "Make video" forms shown and not yet submitted, forgotten after 15 minutes. */
export class PendingForms {
  private readonly forms = new Map<string, PendingForm>();

  /** Keeps the image for a new form; returns the form's id. */
  open(imageUrl: string, now = Date.now()): string {
    for (const [formId, entry] of this.forms) if (entry.expiresAt < now) this.forms.delete(formId);
    const formId = randomBytes(8).toString('base64url');
    this.forms.set(formId, { imageUrl, expiresAt: now + FORM_LIFETIME_MS });
    return formId;
  }

  isOpen(formId: string, now = Date.now()): boolean {
    const entry = this.forms.get(formId);
    return entry !== undefined && entry.expiresAt >= now;
  }

  /** The image of a submitted form; the form is closed from then on. */
  take(formId: string): string | undefined {
    const entry = this.forms.get(formId);
    this.forms.delete(formId);
    return entry?.imageUrl;
  }
}
