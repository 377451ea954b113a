import { allowsChannel, type GuildSettings } from './guild-settings.ts';
import type { Admission, JobAdmission, JobAsk, JobCharge, Requester } from './jobs/job.ts';
import type { QuotaService, Reservation } from './quota-service.ts';

export interface QuotaAdmissionOptions {
  quotas: QuotaService;
  settings: GuildSettings;
  defaultModel: string;
}

/**
 * The gate every front door goes through: the server's channel rules, its default duration and
 * model, then an atomic quota reservation that the job commits on delivery or releases otherwise.
 */
export class QuotaAdmission implements JobAdmission {
  constructor(private readonly options: QuotaAdmissionOptions) {}

  async admit(ask: JobAsk, requester: Requester): Promise<Admission> {
    let model = ask.model;
    let durationSeconds = ask.durationSeconds;
    if (ask.guildId) {
      const settings = await this.options.settings.get(ask.guildId);
      if (!allowsChannel(settings, ask.channelId, ask.threadParentId))
        return { ok: false, message: channelRefusal(settings.allowedChannelIds) };
      model ??= settings.defaultModel ?? undefined;
      durationSeconds ??= settings.defaultDurationSeconds ?? undefined;
    }
    const reserved = await this.options.quotas.reserve(requester);
    if (!reserved.ok) return { ok: false, message: reserved.reason };
    return {
      ok: true,
      request: { ...ask, model: model ?? this.options.defaultModel, durationSeconds },
      charge: this.chargeFor(reserved.reservation),
    };
  }

  /** Releases the unit an interrupted job held; for restart recovery, from the job's record. */
  release(reservation: unknown): Promise<void> {
    return this.options.quotas.release(reservation as Reservation);
  }

  private chargeFor(reservation: Reservation): JobCharge {
    const { quotas } = this.options;
    return {
      reservation,
      commit: () => quotas.commit(reservation),
      release: () => quotas.release(reservation),
    };
  }
}

function channelRefusal(allowedChannelIds: string[]): string {
  const channels = allowedChannelIds.map((id) => `<#${id}>`).join(', ');
  return `Videos can't be made in this channel. This server allows them in: ${channels}.`;
}
