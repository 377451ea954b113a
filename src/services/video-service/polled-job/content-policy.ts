/**
 * Words with which fal, Replicate and the models behind them say a prompt or an image broke
 * their content rules ("NSFW content detected", "flagged by a content checker", "sensitive",
 * Kling's "risk control"). A failure that says so gets the bot's content-policy text, not the
 * service's raw words.
 */
const CONTENT_POLICY_WORDS =
  /content[ _-]?polic|\bnsfw\b|\bflagged\b|\bsensitive\b|moderat|safety (?:filter|system|checker)|content checker|risk control/i;

export function saysContentPolicy(text: string | undefined): boolean {
  return text !== undefined && CONTENT_POLICY_WORDS.test(text);
}
