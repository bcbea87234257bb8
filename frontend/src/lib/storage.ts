/**
 * localStore is this device's localStorage, or undefined where the browser
 * refuses it (a private window, storage turned off): then nothing is
 * remembered.
 */
export function localStore(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
