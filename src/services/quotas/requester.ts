/**
 * Who is asking, as quotas see them (role ids include the server's @everyone role; none in DMs).
 * A word of its own, with no imports: front doors, intake, jobs and quotas all say it.
 */
export interface Requester {
  guildId: string | null;
  userId: string;
  roleIds: string[];
}
