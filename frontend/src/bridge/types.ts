// What the UI needs from its surroundings: the desktop app (Wails bindings)
// or, in a browser, the host that served the page.

/** The own host, as the desktop app's Self() or a browser's /api/info describes it. */
export interface SelfInfo {
  id: string;
  name: string;
  port: number;
  ws_url: string;
  join_urls: string[];
  version: string;
  /** proves the host role; send it only to the own host's ws_url */
  host_token?: string;
  /** the join code, when the host has one and we may show it */
  join_code?: string;
  /** whether a join code is required */
  join_code_required?: boolean;
  /** the host's key fingerprint (52 base32 characters), for the session card */
  fingerprint?: string;
}

export interface Settings {
  name: string;
  language: string;
  data_dir?: string;
  /** this computer's chat name (desktop app); empty until the person chose one */
  host_name?: string;
}

/** Another host seen on the LAN (or added by address). Fields beyond id and name are optional. */
export interface Peer {
  id: string;
  name: string;
  port?: number;
  members?: number;
  rooms?: unknown;
  join_code?: boolean;
  self?: boolean;
  url?: string;
  urls?: string[];
  addr?: string;
  address?: string;
  addrs?: string[];
  host?: string;
  /** the key the host proved over TLS; absent when it answered over plain HTTP */
  fingerprint?: string;
  /** "new" (first met in this run), "pinned" (the key remembered) or "changed" (another key: never joined) */
  trust?: string;
  [k: string]: unknown;
}

export interface Bridge {
  kind: 'desktop' | 'browser';
  self(): Promise<SelfInfo>;
  settings(): Promise<Settings>;
  saveSettings(s: Settings): Promise<void>;
  peers(): Promise<Peer[]>;
  addPeer(addr: string): Promise<Peer>;
  diagnosis(): Promise<unknown>;
  /** onPeers follows the peer list; it returns a function that stops following. */
  onPeers(cb: (peers: Peer[]) => void): () => void;
  notify(title: string, body: string): void;
  /** copy puts text on the clipboard; false when that was not possible. */
  copy(text: string): Promise<boolean>;
  openURL(url: string): void;
  /** setTitle names the browser tab, and in the desktop app the window too. */
  setTitle(title: string): void;
  /**
   * exportTranscript saves a transcript of room (empty: every room) in a
   * file the user picks; it resolves to the path, or "" when they cancelled.
   * Only the desktop app has it (it reads its own host's history).
   */
  exportTranscript?(room: string, format: TranscriptFormat): Promise<string>;
  /** setHostName renames this computer's host for everyone, at once, and keeps the name (desktop only); it resolves to the name as cleaned. */
  setHostName?(name: string): Promise<string>;
  /** fileLimits are the own host's limits for files (desktop only). */
  fileLimits?(): Promise<FileLimits>;
  /** setFileLimits changes them at once for everyone and keeps them; 0 is the default (desktop only). */
  setFileLimits?(fileMB: number, filesMB: number): Promise<FileLimits>;
  /** forgetKey drops the key remembered for a host whose key changed (desktop only). */
  forgetKey?(hostId: string): Promise<void>;
}

/** The own host's file limits, in MB: as saved (0: the default) and as they are now. */
export interface FileLimits {
  max_file_mb: number;
  max_files_mb: number;
  effective_file_mb: number;
  effective_files_mb: number;
  used_mb: number;
  off: boolean;
}

export type TranscriptFormat = 'md' | 'html' | 'json' | 'zip';
export const TRANSCRIPT_FORMATS: readonly TranscriptFormat[] = ['md', 'html', 'json', 'zip'];
