// Writing the small TOML files we own (identities, profiles). Reading them uses Bun's
// built-in Bun.TOML.parse: every ctl command reads an identity, and evaluating
// @iarna/toml cost ~20 ms of CPU at start; writing is rare, so it loads @iarna/toml then.

export function tomlStringify(o: Record<string, string>): string {
  return (require("@iarna/toml") as typeof import("@iarna/toml")).stringify(o);
}
