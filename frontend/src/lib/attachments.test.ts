import { describe, expect, it } from 'vitest';
import { fileKind, fitBox, formatBytes, formatPercent, pastedFiles } from './attachments';

describe('file sizes and progress in words', () => {
  it('writes sizes in the unit that fits', () => {
    expect(formatBytes(512, 'en')).toBe('512 bytes');
    expect(formatBytes(1, 'en')).toBe('1 byte');
    expect(formatBytes(1536, 'en')).toBe('1.5 kB');
    expect(formatBytes(50 * 1024 * 1024, 'en')).toBe('50 MB');
    expect(formatBytes(3 * 1024 ** 3, 'en')).toBe('3 GB');
    expect(formatBytes(1536, 'pt-BR')).toBe('1,5 kB');
  });
  it('never says 100 % before the end', () => {
    expect(formatPercent(0, 100, 'en')).toBe('0%');
    expect(formatPercent(999, 1000, 'en')).toBe('99%');
    expect(formatPercent(1000, 1000, 'en')).toBe('100%');
    expect(formatPercent(5, 0, 'en')).toBe('0%');
    expect(formatPercent(1, 4, 'pt-BR')).toBe('25%');
  });
});

describe('images in the conversation', () => {
  it('take their size scaled down to the box, never up, before they load', () => {
    expect(fitBox(3024, 4032)).toEqual({ width: 180, height: 240 });
    expect(fitBox(4032, 3024)).toEqual({ width: 240, height: 180 });
    expect(fitBox(100, 50)).toEqual({ width: 100, height: 50 });
    expect(fitBox(10000, 10)).toEqual({ width: 240, height: 1 });
    expect(fitBox(undefined, undefined)).toEqual({ width: 120, height: 120 });
  });
});

describe('file kinds', () => {
  it('go by the name first, then the type', () => {
    expect(fileKind({ name: 'lista 3.pdf', type: 'application/octet-stream' })).toBe('pdf');
    expect(fileKind({ name: 'page.html', type: 'application/octet-stream' })).toBe('file');
    expect(fileKind({ name: 'drawing.svg', type: 'image/svg+xml' })).toBe('image');
    expect(fileKind({ name: 'notes', type: 'text/plain' })).toBe('text');
    expect(fileKind({ name: 'x', type: 'application/octet-stream' })).toBe('file');
  });
});

describe('pastedFiles', () => {
  const shot = new File(['png'], 'shot.png', { type: 'image/png' });
  const item = (kind: string, file: File | null) => ({ kind, getAsFile: () => file }) as DataTransferItem;
  const paste = (files: File[], items: DataTransferItem[]) => ({ files: files as unknown as FileList, items: items as unknown as DataTransferItemList });

  it('takes the files a paste carries', () => {
    expect(pastedFiles(paste([shot], [item('file', null)]))).toEqual([shot]);
  });
  it('takes a copied image offered only as an item (WebKitGTK)', () => {
    expect(pastedFiles(paste([], [item('string', null), item('file', shot), item('file', null)]))).toEqual([shot]);
  });
  it('is nothing for text, or no clipboard', () => {
    expect(pastedFiles(paste([], [item('string', null)]))).toEqual([]);
    expect(pastedFiles(null)).toEqual([]);
  });
});
