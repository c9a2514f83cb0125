// File contents are bytes. Edits decode them so that every byte they do not touch is written back
// exactly: valid UTF-8 as text, anything else one character per byte (latin1), which round-trips.
export type Encoding = 'utf8' | 'latin1';

export interface Decoded {
  text: string;
  encoding: Encoding;
}

// fatal: invalid UTF-8 is detected, not replaced by U+FFFD; ignoreBOM: a BOM stays in the text.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A file's text and the encoding that gives its bytes back unchanged. */
export function decode(bytes: Buffer): Decoded {
  try {
    return { text: strictUtf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  }
}

/** A string from a playbook, in the domain of a decoded file's text: in a latin1 file, its UTF-8
 *  bytes one character each (so a new line is written in UTF-8, as Ansible writes it). */
export function inDomain(s: string, encoding: Encoding): string {
  return encoding === 'utf8' ? s : Buffer.from(s, 'utf8').toString('latin1');
}

export function encode(text: string, encoding: Encoding): Buffer {
  return Buffer.from(text, encoding);
}

export function asBytes(content: Buffer | string): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** Content for people (diffs): text as it is, bytes decoded as an edit would decode them. */
export function asText(content: Buffer | string): string {
  return typeof content === 'string' ? content : decode(content).text;
}
