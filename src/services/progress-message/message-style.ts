/** How a job's message looks: a Components V2 card (the default) or a text message with the file under it. */
export const MESSAGE_STYLES = ['cards', 'text'] as const;
export type MessageStyle = (typeof MESSAGE_STYLES)[number];
