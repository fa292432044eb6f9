/**
 * Glob matching as Argo CD's directory include/exclude (gobwas/glob without
 * separators): `*` and `**` match any run of characters, `?` one character,
 * `[abc]` / `[!abc]` classes, `{a.yaml,b.yaml}` alternatives.
 */
function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

export function globToRegExp(pattern: string): RegExp {
  let re = "";
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      while (pattern[i + 1] === "*") i++;
      re += ".*";
    } else if (c === "?") re += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "{") {
      depth++;
      re += "(?:";
    } else if (c === "}" && depth > 0) {
      depth--;
      re += ")";
    } else if (c === "," && depth > 0) re += "|";
    else if (c === "\\" && i + 1 < pattern.length) re += escapeChar(pattern[++i]!);
    else re += escapeChar(c);
  }
  return new RegExp(`^${re}$`);
}

export function globMatch(pattern: string, path: string): boolean {
  return globToRegExp(pattern).test(path);
}
