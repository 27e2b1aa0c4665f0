/**
 * The size rules of the house, checked on every run: no file in src over 250 lines, no
 * function over 60 lines, no `as unknown as Db` (transactions hand out their repos through
 * the unit of work). Generated and static files are not counted.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const MAX_FILE_LINES = 250;
const MAX_FUNCTION_LINES = 60;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "public" ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const files = sourceFiles(join(ROOT, "src")).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, "utf8") }));

/** Every function-like node with its name and length in lines. */
function functionsOf(path: string, text: string): Array<{ name: string; lines: number }> {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: Array<{ name: string; lines: number }> = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : `(anonymous at line ${start + 1})`;
      found.push({ name, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("the house rules", () => {
  it(`keeps every file in src under ${MAX_FILE_LINES} lines`, () => {
    const long = files.map((f) => ({ path: f.path, lines: f.text.split("\n").length })).filter((f) => f.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`keeps every function in src under ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap((f) => functionsOf(f.path, f.text).filter((fn) => fn.lines > MAX_FUNCTION_LINES).map((fn) => `${f.path}: ${fn.name} (${fn.lines})`));
    expect(long).toEqual([]);
  });

  it("hands transactions around without casts", () => {
    expect(files.filter((f) => f.text.includes("as unknown as Db")).map((f) => f.path)).toEqual([]);
  });

  // A user's role (admin, doctor, patient); 100ms's peer roles (presence.ts) are another matter.
  it("compares users' roles in the access policy only", () => {
    const comparing = files.filter((f) => !f.path.startsWith("src/access/") && /\b(viewer|user|current|started)\.role\s*[!=]==|\brole\s*[!=]==\s*"(admin|doctor|patient)"|case\s+"admin"/.test(f.text));
    expect(comparing.map((f) => f.path)).toEqual([]);
  });

  it("reads consultations for a user only through the request's scoped view", () => {
    const scopedReads = /\.(findVisible|listVisible|findVisibleAppointment)\(/;
    const callers = files.filter((f) => f.path !== "src/consultations/visible-consultations.ts" && scopedReads.test(f.text));
    expect(callers.map((f) => f.path)).toEqual([]);
  });
});
