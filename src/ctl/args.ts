// Flag parsing for ctl subcommands (node:util parseArgs), turning its errors
// into one-line usage errors.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { usage } from "../platform/cli-error.ts";
import type { Format } from "./table.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parse<O extends Options>(args: string[], options: O, command: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usage(`${command}: ${(e as Error).message.split("\n")[0]}`);
  }
}

export function format(v: unknown, allowed: Format[] = ["table", "json"]): Format {
  const f = (v ?? allowed[0]) as Format;
  if (!allowed.includes(f)) throw usage(`--format must be one of ${allowed.join(", ")}`);
  return f;
}

export const FORMAT_FLAG = { format: { type: "string" } } as const;
