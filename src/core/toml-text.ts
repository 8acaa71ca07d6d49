// TOML text to a plain value tree; syntax errors become one-line ValidationErrors with the line.
// Shared by config files and resource files.

import TOML from "@iarna/toml";
import { ValidationError } from "./validation-error.ts";

/** Parses TOML text; a syntax error reads `FILE: line 2, column 5: Unexpected character, …`. */
export function parseTomlText(text: string, file: string): Record<string, unknown> {
  try {
    return TOML.parse(text) as Record<string, unknown>;
  } catch (e) {
    const err = e as { line?: number; col?: number; message?: string };
    const first = String(err.message ?? e).split("\n")[0]!.replace(/ at row \d+, col \d+, pos \d+:$/, "");
    if (typeof err.line !== "number") throw new ValidationError(file, "", `bad TOML: ${first}`);
    throw new ValidationError(file, "", `line ${err.line + 1}, column ${(err.col ?? 0) + 1}: bad TOML: ${first}`);
  }
}
