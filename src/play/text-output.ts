// `play --format text`: the session's output as plain text, without terminal escape
// sequences (CSI, OSC, DCS and two-byte escapes) and with CRLF turned into LF.

// CSI: ESC [ params intermediates final; OSC/DCS/APC/PM/SOS: ESC ] … BEL or ST; others: ESC + one or two bytes.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]P^_X][\s\S]*?(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;
// C1 controls too (U+0080–U+009F): a UTF-8 terminal may read U+009D as the start of an OSC string.
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

export function plainText(output: string): string {
  return output
    .replace(ESCAPES, "")
    .replace(/\r+\n/g, "\n")
    .replace(/\r/g, "\n")
    .replace(CONTROLS, "");
}

/** Decodes output chunks as UTF-8 across chunk boundaries (invalid bytes become U+FFFD). */
export function utf8Stream(): (bytes: Uint8Array, last?: boolean) => string {
  const d = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  return (bytes, last = false) => d.decode(bytes, { stream: !last });
}
