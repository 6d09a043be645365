import { describe, expect, it } from 'vitest';
import { OutputCapture } from '../src/index.js';

const upper = (s: string) => s.toUpperCase();

describe('OutputCapture', () => {
  it('keeps everything under the cap, masked as one text', () => {
    const c = new OutputCapture(100);
    c.push(Buffer.from('hello '));
    c.push(new TextEncoder().encode('world'));
    expect(c.capped).toBe(false);
    expect(c.total).toBe(11);
    expect(c.text(upper)).toBe('HELLO WORLD');
  });

  it('over the cap keeps head and tail, says how many bytes were cut, and counts them all', () => {
    const c = new OutputCapture(10);
    for (let i = 0; i < 100; i++) c.push(Buffer.from(String(i % 10)));
    expect(c.total).toBe(100);
    expect(c.capped).toBe(true);
    const { head, tail, cutBytes } = c.parts((s) => s);
    expect(head).toBe('01234');
    expect(tail).toBe('56789');
    expect(cutBytes).toBe(90);
    expect(c.text((s) => s)).toBe('01234\n… [90 bytes cut: output over 10 bytes] …\n56789');
  });

  it('masks head and tail apart, so a secret wholly inside either is masked', () => {
    const c = new OutputCapture(20);
    c.push(Buffer.from(`pw=s3cret ${'x'.repeat(50)} tok=s3cret`));
    const text = c.text((s) => s.replaceAll('s3cret', '***'));
    expect(text).not.toContain('s3cret');
    expect(text.startsWith('pw=***')).toBe(true);
  });
});
