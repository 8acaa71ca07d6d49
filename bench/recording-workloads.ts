// Workloads for the recording benchmark: a typical interactive shell session typed
// into a real `ssh -tt` (keystroke echoes, prompts, listings, a pager-free man page),
// and a synthetic one-hour recording of the same kind for the seek measurement.
import { gzipMember } from "../src/recording/format/part-codec.ts";
import { bytesLine, eventLine } from "../src/recording/format/recording-event.ts";
import type { SshTarget } from "./ssh-client.ts";
import { sshCommand } from "./ssh-client.ts";

const COMMANDS = [
  "cd /etc", "ls -la", "cat os-release", "ps aux | head -30", "df -h", "free -m", "ls -la /usr/bin | head -60",
  "grep -c . services", "for i in 1 2 3 4 5; do echo step $i; sleep 0.1; done", "uname -a", "history | tail -5", "exit",
];

/** Types the commands a key at a time (15 ms apart) and returns when the session ends. */
export async function typeShellSession(t: SshTarget, timeoutMs: number): Promise<void> {
  const cmd = sshCommand(t, "", ["-tt"]).filter((a) => a !== "-n" && a !== "-T" && a !== "");
  const proc = Bun.spawn({ cmd, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  void new Response(proc.stdout).text();
  void new Response(proc.stderr).text();
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  await Bun.sleep(500);
  for (const c of COMMANDS) {
    for (const ch of c + "\n") {
      proc.stdin.write(ch);
      proc.stdin.flush();
      await Bun.sleep(15);
    }
    await Bun.sleep(300);
  }
  proc.stdin.end();
  await proc.exited;
  clearTimeout(timer);
}

/** A one-hour shell recording: typing, prompts, listings, a clear now and then, a full-screen editor. */
export function syntheticHour(): { bytes: Uint8Array; events: number; outputBytes: number } {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const lines: string[] = [eventLine({
    event: "session.start", ms: 0, version: 1, sid: "00000000-0000-4000-8000-000000000000", time: new Date(0).toISOString(),
    server_id: "bench", user: "bench", login: "root", kind: "shell", mode: "node", term: "xterm-256color", cols: 120, rows: 40,
  })];
  let ms = 0;
  let out = 0;
  const print = (text: string) => {
    const b = Buffer.from(text);
    out += b.length;
    lines.push(bytesLine("print", ms, b));
  };
  while (ms < 3_600_000) {
    print(`\x1b]0;root@bench: /srv\x07\x1b[01;32mroot@bench\x1b[00m:\x1b[01;34m/srv\x1b[00m# `);
    const cmd = ["ls -la", "git status", "tail -n 50 app.log", "vim config.yaml", "top -bn1 | head", "clear"][Math.floor(rand() * 6)]!;
    for (const ch of cmd) {
      ms += 80 + Math.floor(rand() * 120);
      print(ch);
    }
    ms += 200;
    print("\r\n");
    if (cmd === "clear") print("\x1b[H\x1b[2J");
    else if (cmd.startsWith("vim")) {
      print("\x1b[?1049h\x1b[H\x1b[2J");
      for (let i = 0; i < 38; i++) print(`\x1b[${i + 1};1Hkey_${i}: value ${Math.floor(rand() * 1e6)}\x1b[K`);
      for (let k = 0; k < 30; k++) {
        ms += 300 + Math.floor(rand() * 2000);
        print(`\x1b[${1 + Math.floor(rand() * 38)};${1 + Math.floor(rand() * 60)}H${String.fromCharCode(97 + Math.floor(rand() * 26))}`);
      }
      print("\x1b[?1049l");
    } else {
      const n = 10 + Math.floor(rand() * 150);
      for (let i = 0; i < n; i++) print(`-rw-r--r-- 1 root root ${Math.floor(rand() * 1e6).toString().padStart(8)} Nov 21 11:14 file_${Math.floor(rand() * 1e4)}.txt\r\n`);
    }
    ms += 1_000 + Math.floor(rand() * 8_000);
  }
  lines.push(eventLine({ event: "session.end", ms, time: new Date(ms).toISOString() }));
  return { bytes: gzipMember(lines.join("")), events: lines.length, outputBytes: out };
}
