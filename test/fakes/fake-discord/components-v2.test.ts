import type { APIAttachment, APIMessage, APIUser } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { DiscordError, type UploadedFile } from './fake-discord-http.ts';
import {
  type ApplyContext,
  applyMessageBody,
  type MessageBody,
  visibleText,
} from './fake-discord-messages.ts';
import { MessageFlag } from './fake-discord-payloads.ts';

/** The fake's Components V2 checks, as Discord answers them: 400 with code 50035. */

const V2 = MessageFlag.IsComponentsV2;
const member: APIUser = {
  id: '111111111111111111',
  username: 'member',
  discriminator: '0',
  global_name: null,
  avatar: null,
};

const blank: APIMessage = {
  id: '1',
  channel_id: '2',
  author: { ...member, id: '3', username: 'bot' },
  content: '',
  timestamp: new Date(0).toISOString(),
  edited_timestamp: null,
  tts: false,
  mention_everyone: false,
  mentions: [],
  mention_roles: [],
  attachments: [],
  embeds: [],
  components: [],
  pinned: false,
  type: 0,
};

const context = (creating: boolean): ApplyContext => ({
  creating,
  now: 0,
  defaultParse: ['users'],
  storeUpload: (upload, filename) =>
    ({
      id: upload.field,
      filename,
      size: upload.size,
      url: `https://cdn/${filename}`,
      proxy_url: '',
    }) as APIAttachment,
  findUser: (id) => (id === member.id ? member : undefined),
});

const mp4: UploadedFile = {
  field: 'files[0]',
  name: 'v.mp4',
  size: 3,
  contentType: 'video/mp4',
  bytes: Buffer.from('mp4'),
};

const text = (content: string) => ({ type: 10, content });
const card = (...components: unknown[]): MessageBody => ({
  flags: V2,
  components: [{ type: 17, components }] as MessageBody['components'],
});

function create(body: MessageBody, uploads: UploadedFile[] = []): APIMessage {
  return applyMessageBody(blank, body, uploads, context(true));
}

function refusal(run: () => unknown): { status: number; code: number } | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof DiscordError) return { status: error.status, code: error.code };
    throw error;
  }
  return undefined;
}

const REFUSED = { status: 400, code: 50035 };

describe('fake Discord: Components V2 messages', () => {
  it('takes a card within the limits, and reads its text and button labels', () => {
    const message = create(
      card(text('**Ready**'), {
        type: 1,
        components: [{ type: 2, style: 2, label: 'Retry', custom_id: 'retry:1' }],
      }),
    );
    expect(visibleText(message)).toBe('**Ready**\nRetry');
    expect(message.content).toBe('');
  });

  it('refuses content or embeds with the flag', () => {
    expect(refusal(() => create({ ...card(text('a')), content: 'hello' }))).toEqual(REFUSED);
    expect(refusal(() => create({ ...card(text('a')), embeds: [{ title: 'x' }] }))).toEqual(REFUSED);
  });

  it('refuses more than 40 components, nested ones counted', () => {
    const texts = Array.from({ length: 39 }, (_, index) => text(`line ${index}`));
    expect(refusal(() => create(card(...texts)))).toBeUndefined();
    expect(refusal(() => create(card(...texts, text('one more'))))).toEqual(REFUSED);
  });

  it('refuses unknown component types, and layout types without the flag', () => {
    expect(refusal(() => create(card({ type: 99 })))).toEqual(REFUSED);
    expect(
      refusal(() =>
        create({ components: [{ type: 17, components: [text('a')] }] as MessageBody['components'] }),
      ),
    ).toEqual(REFUSED);
  });

  it('refuses more than 4000 characters of text in all', () => {
    expect(refusal(() => create(card(text('a'.repeat(2_000)), text('b'.repeat(2_000)))))).toBeUndefined();
    expect(refusal(() => create(card(text('a'.repeat(2_000)), text('b'.repeat(2_001)))))).toEqual(REFUSED);
  });

  it('refuses an attachment:// reference to a file the message does not have', () => {
    const gallery = (url: string) => ({ type: 12, items: [{ media: { url } }] });
    const listed = { attachments: [{ id: '0', filename: 'v.mp4' }] };
    expect(
      refusal(() => create({ ...card(gallery('attachment://v.mp4')), ...listed }, [mp4])),
    ).toBeUndefined();
    expect(refusal(() => create({ ...card(gallery('attachment://other.mp4')), ...listed }, [mp4]))).toEqual(
      REFUSED,
    );
    expect(refusal(() => create(card(gallery('attachment://v.mp4'))))).toEqual(REFUSED);
    expect(refusal(() => create(card({ type: 12, items: [] })))).toEqual(REFUSED);
  });

  it('never lets a card turn back into a text message', () => {
    const posted = create(card(text('working')));
    const edit = (body: MessageBody) => applyMessageBody(posted, body, [], context(false));
    expect(refusal(() => edit({ flags: 0, content: 'plain', components: [] }))).toEqual(REFUSED);
    expect(refusal(() => edit({ content: 'plain', components: [] }))).toEqual(REFUSED);
    expect(edit(card(text('done'))).flags).toBe(V2);
  });

  it('pings from a Text Display as from content, unless allowed_mentions says no one', () => {
    const ping = text(`<@${member.id}>`);
    expect(create(card(ping)).mentions.map((user) => user.id)).toEqual([member.id]);
    expect(create({ ...card(ping), allowed_mentions: { parse: [] } }).mentions).toEqual([]);
  });
});
