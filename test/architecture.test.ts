/// <reference types="vite/types/importGlob.d.ts" />
import { describe, expect, it } from "vitest";

/**
 * The folders under src/ are the pipeline's stages, and imports between them point one way:
 * a stage may use an earlier one or the neutral model, never the reverse. The sources are
 * read as text at build time (Vite's `import.meta.glob`), since the tests run in workerd,
 * where there is no file system to read them from.
 */
const sources = import.meta.glob<string>(["../src/**/*.ts", "!../src/**/*.test.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
});

/** Folders that every stage may use and that use no stage: shapes and primitives only. */
const NEUTRAL = ["model", "crypto"];

/**
 * Every unit in the order an alert meets it; a unit may import only those before it.
 * `record` (the log and the audit record) comes first because every stage writes to it;
 * `app` and `index` put the stages together.
 */
const STAGES = [
  ...NEUTRAL,
  "record",
  "config",
  "sources",
  "receive",
  "match",
  "resolve",
  "dispatch",
  "report",
  "ledger",
  "consume",
  "admin",
  "console",
  "app",
  "index",
];

/** A folder under src/, or the file itself for the entry files at its top (`app`, `index`). */
function unitOf(path: string): string {
  const [first, ...rest] = path.replace(/^\.\.\/src\//, "").split("/");
  return rest.length > 0 ? first! : first!.replace(/\.ts$/, "");
}

/** `../src/a/b.ts` importing `../c/d` → `../src/c/d`. */
function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s*["'](\.{1,2}\/[^"']+)["']|\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** unit → unit it imports → the files that make the edge, for the failure message. */
function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const [path, text] of Object.entries(sources)) {
    const from = unitOf(path);
    for (const match of text.matchAll(IMPORT)) {
      const target = resolve(path, (match[1] ?? match[2])!);
      if (!target.startsWith("../src/")) continue;
      const to = unitOf(`${target}${target.endsWith(".ts") ? "" : ".ts"}`);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), `${path.slice(7)} imports ${match[1] ?? match[2]}`]);
    }
  }
  return graph;
}

/** One cycle of the graph as the path of units around it, or undefined when there is none. */
function findCycle(graph: Map<string, Map<string, string[]>>): string[] | undefined {
  const done = new Set<string>();
  const onPath: string[] = [];
  function visit(unit: string): string[] | undefined {
    if (onPath.includes(unit)) return [...onPath.slice(onPath.indexOf(unit)), unit];
    if (done.has(unit)) return undefined;
    onPath.push(unit);
    for (const next of graph.get(unit)?.keys() ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    onPath.pop();
    done.add(unit);
    return undefined;
  }
  for (const unit of graph.keys()) {
    const cycle = visit(unit);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("the import graph between src/ folders", () => {
  const graph = folderGraph();

  it("reads the sources", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    expect(graph.get("consume")?.has("model")).toBe(true);
  });

  it("has no cycle", () => {
    const cycle = findCycle(graph);
    const why = cycle?.slice(1).map((to, i) => graph.get(cycle[i]!)!.get(to)![0]);
    expect(cycle && { cycle: cycle.join(" → "), because: why }).toBeUndefined();
  });

  it.each(NEUTRAL)("lets %s/ import no stage", (neutral) => {
    const stages = [...(graph.get(neutral)?.entries() ?? [])].filter(([to]) => !NEUTRAL.includes(to));
    expect(Object.fromEntries(stages)).toEqual({});
  });

  it("names every unit in the order of the stages", () => {
    const units = new Set([...graph.keys(), ...[...graph.values()].flatMap((edges) => [...edges.keys()])]);
    expect([...units].filter((unit) => !STAGES.includes(unit))).toEqual([]);
  });

  it("points every import at an earlier stage", () => {
    const backwards = [...graph].flatMap(([from, edges]) =>
      [...edges].filter(([to]) => !NEUTRAL.includes(to) && STAGES.indexOf(to) > STAGES.indexOf(from)).map(([to, because]) => `${from} → ${to}: ${because[0]}`),
    );
    expect(backwards).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const edge = (to: string) => new Map([[to, ["x"]]]);
    expect(
      findCycle(
        new Map([
          ["a", edge("b")],
          ["b", edge("c")],
          ["c", edge("a")],
        ]),
      ),
    ).toEqual(["a", "b", "c", "a"]);
    expect(
      findCycle(
        new Map([
          ["a", edge("b")],
          ["b", edge("c")],
        ]),
      ),
    ).toBeUndefined();
  });
});
