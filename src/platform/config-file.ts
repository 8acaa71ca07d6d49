// Reads a config file for `auth start` / `agent start`: an explicit --config must
// exist; otherwise the default path is used if present, else every default applies.
import { existsSync, readFileSync } from "node:fs";
import { parseConfigText } from "../core/config.ts";
import { ValidationError } from "../core/validation-error.ts";

export function loadConfig<T>(explicit: string | undefined, defaultPath: string, parse: (obj: unknown, file: string) => T): T {
  const path = explicit ?? (existsSync(defaultPath) ? defaultPath : undefined);
  if (!path) return parse({}, "(defaults)");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ValidationError(path, "", (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message);
  }
  return parse(parseConfigText(text, path), path);
}
