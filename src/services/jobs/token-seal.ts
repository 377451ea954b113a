import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals interaction tokens for the store (AES-256-GCM): a dump of the job records must not hand
 * out 15 minutes of write access to members' replies. The key is derived (HKDF-SHA256) from a
 * secret every process of a cluster already shares, the bot token, so no new setting is needed;
 * whoever holds the bot token can edit those replies anyway. Each sealed token is bound to its job
 * id, so it cannot be moved into another record.
 */

const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT = 'sora-bot job records';
const INFO = 'interaction token seal v1';

export class TokenSeal {
  private constructor(private readonly key: Buffer) {}

  static fromSecret(secret: string): TokenSeal {
    return new TokenSeal(Buffer.from(hkdfSync('sha256', secret, SALT, INFO, 32)));
  }

  seal(token: string, jobId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(jobId));
    const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return `${PREFIX}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
  }

  /** The token, or undefined when it was sealed with another key (the bot token changed) or for another job. */
  open(value: string, jobId: string): string | undefined {
    const bytes = Buffer.from(value.slice(PREFIX.length), 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES))
        .setAAD(Buffer.from(jobId))
        .setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const opened = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return opened.toString('utf8');
    } catch {
      return undefined;
    }
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}
