import { createRequire } from 'node:module';
import type { RESTOptions } from 'discord.js';

/**
 * An HTTP agent of the undici version discord.js's REST is built on. Without one, its requests go
 * through the process-wide dispatcher, which belongs to whichever undici version was imported
 * first; when that is the bot's own (newer) undici, it cannot read discord.js's multipart bodies
 * and every upload fails ("action is not a function"). So the REST layer never depends on import order.
 */
export function discordRestAgent(): NonNullable<RESTOptions['agent']> {
  const require = createRequire(import.meta.url);
  const restUndici = createRequire(require.resolve('@discordjs/rest'))('undici') as {
    Agent: new () => NonNullable<RESTOptions['agent']>;
  };
  return new restUndici.Agent();
}
