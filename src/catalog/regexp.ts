import type { RegExpEngine } from "ajv/dist/types/index.js";
import { RE2JS } from "re2js";

/**
 * The regular-expression engine of event-type schemas (`pattern`,
 * `patternProperties`): RE2 (the `re2js` port, pure JavaScript), which matches
 * in time linear in the input whatever the pattern. Any tenant can publish a
 * payload, so a backtracking engine would let one schema pattern such as
 * `^(a+)+$` stall the event loop for minutes on a 30-character string.
 *
 * Patterns are ECMA-262 as JSON Schema says, translated to RE2's syntax
 * (`\uXXXX`, named groups). RE2 has no lookaround and no backreferences: a
 * pattern that uses them does not compile, and the schema is refused (422)
 * when it is stored. Ajv asks for the `u` flag; RE2 always matches code points.
 *
 * @example
 * new Ajv2020({ code: { regExp: re2RegExp } });
 */
export const re2RegExp: RegExpEngine = Object.assign(
  (pattern: string, _flags: string) => {
    let re: RE2JS;
    try {
      re = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(
        `pattern ${JSON.stringify(pattern)} is not supported: schema patterns are matched by RE2, in linear time, which has no lookaround or backreferences (${why})`,
      );
    }
    // Ajv keys compiled patterns by toString(): one entry per pattern.
    return { test: (s: string) => re.test(s), toString: () => `re2:${pattern}` };
  },
  { code: 're2RegExp /* src/catalog/regexp.ts */' },
);
