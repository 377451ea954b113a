/** The `CREDIT_SKUS` setting, read with no other module (config reads it at start). */

/** What one SKU grants: `60s` is sixty seconds of video, `5.00` five units of the currency. */
export interface CreditGrant {
  unit: 'seconds' | 'spend';
  amount: number;
}

/** `CREDIT_SKUS`: `123=60s,456=5.00`. */
export function parseCreditSkus(text: string): Map<string, CreditGrant> {
  const skus = new Map<string, CreditGrant>();
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^(\d{15,21})=(?:(\d+)s|(\d+(?:\.\d{1,2})?))$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not <sku id>=<seconds>s or <sku id>=<amount>`);
    const [, skuId, seconds, money] = match as unknown as [string, string, string?, string?];
    skus.set(
      skuId,
      seconds ? { unit: 'seconds', amount: Number(seconds) } : { unit: 'spend', amount: Number(money) },
    );
  }
  return skus;
}
