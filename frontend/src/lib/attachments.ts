// How a message's files show: their sizes in words, the room an image takes
// before it loads (so the list does not jump), and an icon by kind; and the
// files a paste brings to the composer.

import type { Attachment } from './protocol';

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;

/** formatBytes writes a size for people: "512 bytes", "1.5 kB", "48 MB" (in the locale's words and digits). */
export function formatBytes(n: number, locale: string): string {
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 10 ? 0 : 1;
  // bytes in full ("158 bytes"): their short form reads as a typo
  return new Intl.NumberFormat(locale, { style: 'unit', unit: UNITS[i], unitDisplay: i === 0 ? 'long' : 'short', maximumFractionDigits: digits }).format(v);
}

/** formatPercent writes how much of total is done, in whole percent, never 100 % before the end. */
export function formatPercent(done: number, total: number, locale: string): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const shown = f < 1 ? Math.min(Math.floor(f * 100), 99) / 100 : 1;
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(shown);
}

/**
 * fitBox is the size an image shows at in the conversation: its own size
 * scaled down (never up) to fit max × max pixels; a square of max/2 when the
 * host gave no size.
 */
export function fitBox(width: number | undefined, height: number | undefined, max = 240): { width: number; height: number } {
  if (!width || !height || width <= 0 || height <= 0) return { width: Math.round(max / 2), height: Math.round(max / 2) };
  const s = Math.min(1, max / width, max / height);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

export type FileKind = 'image' | 'pdf' | 'text' | 'archive' | 'audio' | 'video' | 'sheet' | 'slides' | 'doc' | 'file';

const BY_EXT: Record<string, FileKind> = {
  pdf: 'pdf',
  txt: 'text',
  md: 'text',
  csv: 'sheet',
  zip: 'archive',
  '7z': 'archive',
  rar: 'archive',
  gz: 'archive',
  tgz: 'archive',
  tar: 'archive',
  mp3: 'audio',
  wav: 'audio',
  ogg: 'audio',
  m4a: 'audio',
  mp4: 'video',
  webm: 'video',
  mov: 'video',
  mkv: 'video',
  xls: 'sheet',
  xlsx: 'sheet',
  ods: 'sheet',
  ppt: 'slides',
  pptx: 'slides',
  odp: 'slides',
  doc: 'doc',
  docx: 'doc',
  odt: 'doc',
  rtf: 'doc',
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  gif: 'image',
  webp: 'image',
  svg: 'image',
  bmp: 'image',
  heic: 'image',
};

/** fileKind guesses what a file is from its name (the host serves most files as bytes) and its type. */
export function fileKind(a: Pick<Attachment, 'name' | 'type'>): FileKind {
  const ext = /\.([a-z0-9]+)$/i.exec(a.name)?.[1]?.toLowerCase();
  if (ext && BY_EXT[ext]) return BY_EXT[ext];
  const t = a.type.toLowerCase();
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('audio/')) return 'audio';
  if (t.startsWith('video/')) return 'video';
  if (t.startsWith('text/')) return 'text';
  if (t === 'application/pdf') return 'pdf';
  return 'file';
}

/** The icon of each kind (a symbol, not a word). */
export const KIND_ICON: Record<FileKind, string> = {
  image: '🖼',
  pdf: '📕',
  text: '📄',
  archive: '🗜',
  audio: '🎵',
  video: '🎞',
  sheet: '📊',
  slides: '📽',
  doc: '📝',
  file: '📎',
};

/**
 * pastedFiles is what a paste carries to attach: its files, or, from engines
 * that offer a copied image only as an item (WebKitGTK), the items' files.
 */
export function pastedFiles(data: Pick<DataTransfer, 'files' | 'items'> | null | undefined): File[] {
  const list = [...(data?.files ?? [])];
  if (list.length) return list;
  return [...(data?.items ?? [])]
    .filter((i) => i.kind === 'file')
    .map((i) => i.getAsFile())
    .filter((f): f is File => !!f);
}
