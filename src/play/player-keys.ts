// The pty player's keys, decoded from raw terminal input: space, ←/→ (CSI or SS3
// arrows), +/=, -/_, q and Ctrl-C.
export type PlayerKey = "pause" | "forward" | "back" | "faster" | "slower" | "quit";

/** The key at the start of s and how many characters it used (0 = none recognised). */
export function playerKey(s: string): { key?: PlayerKey; used: number } {
  const arrow = /^\x1b[[O]([CD])/.exec(s);
  if (arrow) return { key: arrow[1] === "C" ? "forward" : "back", used: arrow[0].length };
  switch (s[0]) {
    case " ": return { key: "pause", used: 1 };
    case "+":
    case "=": return { key: "faster", used: 1 };
    case "-":
    case "_": return { key: "slower", used: 1 };
    case "q":
    case "Q":
    case "\x03": return { key: "quit", used: 1 };
    default: return { used: 0 };
  }
}
