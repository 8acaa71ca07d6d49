// A pseudo-terminal whose master side we read only when asked, so a session's output
// can wait for its SSH channel and its recorder (Bun.Terminal cannot pause). Opened with
// libc (posix_openpt / ptsname_r), sized with TIOCSWINSZ. The master is non-blocking and
// read through Bun's event loop: a blocking read (node:tty's ReadStream in Bun) holds one
// of Bun's few pool threads per idle shell, and the third or fourth session stalled.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, openSync } from "node:fs";

const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;
const TIOCSWINSZ = 0x5414;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const F_DUPFD_CLOEXEC = 1030;

type Libc = ReturnType<typeof loadLibc>;
let libc: Libc | undefined;

function loadLibc() {
  return dlopen("libc.so.6", {
    posix_openpt: { args: [FFIType.i32], returns: FFIType.i32 },
    grantpt: { args: [FFIType.i32], returns: FFIType.i32 },
    unlockpt: { args: [FFIType.i32], returns: FFIType.i32 },
    ptsname_r: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
    ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  }).symbols;
}

export interface Pty {
  /** The terminal's slave side: give it to the child as fds 0-2, then call releaseSlave. */
  readonly slaveFd: number;
  /** What the program prints; the master is read only as this is iterated. Ends at EOF (EIO) or close. */
  readonly output: AsyncIterable<Uint8Array>;
  /** Keystrokes to the program: a promise when the terminal's input is full (wait for it), else undefined. */
  write(data: Uint8Array): Promise<void> | undefined;
  resize(cols: number, rows: number): void;
  releaseSlave(): void;
  /** Closes the master: the kernel sends SIGHUP to the terminal's session. */
  close(): void;
}

export function openPty(cols: number, rows: number): Pty {
  const c = (libc ??= loadLibc());
  const master = c.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) throw new Error("cannot open a pseudo-terminal (posix_openpt failed)");
  let slave = -1;
  try {
    const name = new Uint8Array(256);
    if (c.grantpt(master) !== 0 || c.unlockpt(master) !== 0 || c.ptsname_r(master, ptr(name), name.length) !== 0) {
      throw new Error("cannot set up a pseudo-terminal (grantpt/unlockpt/ptsname_r failed)");
    }
    slave = openSync(new TextDecoder().decode(name.subarray(0, name.indexOf(0))), O_RDWR | O_NOCTTY);
    setSize(c, master, cols, rows);
  } catch (e) {
    closeSync(master);
    throw e;
  }
  c.fcntl(master, F_SETFL, c.fcntl(master, F_GETFL, 0) | O_NONBLOCK);
  // Reader and writer each own an fd (the writer a duplicate, sharing the non-blocking mode).
  const writeFd = c.fcntl(master, F_DUPFD_CLOEXEC, 3);
  const reader = Bun.file(master).stream().getReader();
  const sink = Bun.file(writeFd).writer();
  let open = true;
  let slaveOpen = true;
  return {
    slaveFd: slave,
    output: chunks(reader),
    write: (data) => {
      if (!open) return undefined;
      try {
        sink.write(data);
        const flushed = sink.flush();
        // EIO once the program is gone: its input goes nowhere, as with sshd.
        return typeof flushed === "number" ? undefined : flushed.then(() => {}, () => {});
      } catch {
        return undefined;
      }
    },
    resize: (cols, rows) => {
      if (open) setSize(c, master, cols, rows);
    },
    releaseSlave: () => {
      if (slaveOpen) closeSync(slave);
      slaveOpen = false;
    },
    close: () => {
      if (slaveOpen) closeSync(slave);
      slaveOpen = false;
      if (!open) return;
      open = false;
      void reader.cancel().catch(() => {});
      closeSync(master);
      closeSync(writeFd);
    },
  };
}

/** The master's output until EOF: Linux reports EIO once no process holds the terminal. */
async function* chunks(reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> }): AsyncIterable<Uint8Array> {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value?.length) yield value;
    }
  } catch {
    return; // EIO (the terminal's last holder is gone) or the master was closed
  }
}

function setSize(c: Libc, fd: number, cols: number, rows: number): void {
  c.ioctl(fd, TIOCSWINSZ, ptr(new Uint16Array([rows, cols, 0, 0])));
}
