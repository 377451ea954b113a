import { describe, expect, it } from 'vitest';
import { checkImage, checkPrompt, sanitiseFileName } from '../../../src/commands/input/request-checks.ts';

describe('request checks', () => {
  it('accepts png, jpeg and webp, by content type or by file name', () => {
    expect(checkImage({ name: 'a.png', contentType: 'image/png', size: 10 }, 100)).toBeUndefined();
    expect(checkImage({ name: 'a.JPG', contentType: null, size: 10 }, 100)).toBeUndefined();
    expect(checkImage({ name: 'a.webp', contentType: 'image/webp', size: 10 }, 100)).toBeUndefined();
  });

  it('names the file and what is accepted when the type is wrong', () => {
    expect(checkImage({ name: 'notes.pdf', contentType: 'application/pdf', size: 10 }, 100)).toMatch(
      /notes\.pdf.*PNG, JPEG or WebP/,
    );
    expect(checkImage({ name: 'anim.gif', contentType: 'image/gif', size: 10 }, 100)).toMatch(
      /PNG, JPEG or WebP/,
    );
  });

  it('says how large the image is and the limit', () => {
    expect(
      checkImage({ name: 'big.png', contentType: 'image/png', size: 30 * 1024 * 1024 }, 20 * 1024 * 1024),
    ).toBe('**big.png** is 30 MB; images can be at most 20 MB. Please use a smaller one.');
  });

  it('asks for a prompt and enforces its length', () => {
    expect(checkPrompt('   ', 10)).toMatch(/describe/);
    expect(checkPrompt('x'.repeat(11), 10)).toMatch(/11 characters.*limit is 10/);
    expect(checkPrompt('a cat', 10)).toBeUndefined();
  });

  it('shows a file name as typed, unable to format, link or ping', () => {
    const problem = checkImage(
      { name: '**[free](https://evil.example)**@everyone.pdf', contentType: 'application/pdf', size: 10 },
      100,
    );
    expect(problem).toMatch(
      /^\*\*\\\*\\\*\\\[free\\\]\(https:\/\/evil\.example\)\\\*\\\*@\u200beveryone\.pdf\*\* is not/,
    );
  });

  it('sanitises file names: no control or direction-override characters, one line, short', () => {
    expect(sanitiseFileName('cat\u202Egnp.exe')).toBe('catgnp.exe');
    expect(sanitiseFileName('a\nb.png')).toBe('ab.png');
    expect(sanitiseFileName('\u200B')).toBe('unnamed file');
    expect(sanitiseFileName(`${'x'.repeat(200)}.png`).length).toBeLessThanOrEqual(80);
  });
});
