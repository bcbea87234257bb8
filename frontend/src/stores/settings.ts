// What the UI remembers on this device: the user's name and a device id.

import { localStore } from '../lib/storage';

const NAME = 'lanchat.name';
const DEVICE = 'lanchat.device';

export function loadName(): string {
  return localStore()?.getItem(NAME)?.trim() ?? '';
}

export function saveName(name: string): void {
  try {
    localStore()?.setItem(NAME, name.trim());
  } catch {
    /* not remembered */
  }
}

/** deviceId is a random id kept on this device (hello.device). */
export function deviceId(): string {
  let id = localStore()?.getItem(DEVICE) ?? '';
  if (!/^d-[0-9a-f]{16}$/.test(id)) {
    const b = new Uint8Array(8);
    crypto.getRandomValues(b);
    id = 'd-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    try {
      localStore()?.setItem(DEVICE, id);
    } catch {
      /* a new one next time */
    }
  }
  return id;
}

/** validName mirrors the host's rule: 1–32 characters after trimming, no control characters. */
export function validName(name: string): boolean {
  const n = name.trim();
  // eslint-disable-next-line no-control-regex
  return n.length > 0 && [...n].length <= 32 && !/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/.test(n);
}
