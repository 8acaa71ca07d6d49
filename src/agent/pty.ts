// A pseudo-terminal whose master side we read as a pausable stream, so a session's
// output can wait for its SSH channel and its recorder (Bun.Terminal cannot pause).
// The PTY is opened with libc (posix_openpt / ptsname_r) and sized with TIOCSWINSZ.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, openSync } from "node:fs";
import tty from "node:tty";

const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;
const TIOCSWINSZ = 0x5414;

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
  /** What the program prints, as a stream that stops reading while paused. */
  readonly output: tty.ReadStream;
  /** Keystrokes to the program; write() returns false when the terminal's input is full. */
  readonly input: tty.WriteStream;
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
  // Reader and writer each own an fd (the writer a duplicate): closing one never closes the other's.
  const writeFd = c.fcntl(master, 1030 /* F_DUPFD_CLOEXEC */, 3);
  const output = new tty.ReadStream(master);
  const input = new tty.WriteStream(writeFd);
  input.on("error", () => {}); // EIO once the program is gone: its input goes nowhere, as with sshd
  let slaveOpen = true;
  return {
    slaveFd: slave, output, input,
    resize: (cols, rows) => {
      if (!output.destroyed) setSize(c, master, cols, rows);
    },
    releaseSlave: () => {
      if (slaveOpen) closeSync(slave);
      slaveOpen = false;
    },
    close: () => {
      if (slaveOpen) closeSync(slave);
      slaveOpen = false;
      output.destroy();
      input.destroy();
    },
  };
}

function setSize(c: Libc, fd: number, cols: number, rows: number): void {
  c.ioctl(fd, TIOCSWINSZ, ptr(new Uint16Array([rows, cols, 0, 0])));
}
