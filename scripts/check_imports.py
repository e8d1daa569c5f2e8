"""No import circles in ganad-core, and no module that reaches up into a layer above its own:
the modules' `crate::` and `super::` references (tests left out) form a graph without cycles in
which every edge points to the same or a lower layer (the folders, in LAYERS' order). Exits 1
naming each cycle and each upward reference.

    python scripts/check_imports.py [ganad-core/src]
"""
import pathlib
import re
import sys
src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent / "ganad-core" / "src")
mods = {}
for f in src.rglob("*.rs"):
    rel = f.relative_to(src).with_suffix("")
    parts = rel.parts
    if parts[-1] in ("mod", "lib", "main"): parts = parts[:-1]
    if not parts: continue
    name = "::".join(parts)
    text = f.read_text()
    text = text.split("#[cfg(test)]")[0]  # drop test modules
    text = re.sub(r"//[^\n]*", "", text)
    deps = set(re.findall(r"crate::([a-z_]+(?:::[a-z_]+)?)", text))
    deps |= {f"{parts[0]}::{m}" if len(parts) > 1 else m for m in re.findall(r"\bsuper::([a-z_]+)", text)}
    mods[name] = deps
def top(m, known):
    # resolve a path to the longest known module
    segs = m.split("::")
    for k in range(len(segs), 0, -1):
        c = "::".join(segs[:k])
        if c in known: return c
    return None
known = set(mods)
# Bottom to top; a module may use its own layer and those below.
LAYERS = [["system", "error"], ["data"], ["config"], ["nets"], ["evaluation"], ["gan", "baselines"], ["training"],
          ["experiments"], ["reports"], ["cli", "main"]]
layer = {folder: i for i, folders in enumerate(LAYERS) for folder in folders}
# The public re-exports of lib.rs (`pub use experiments::{sweep, …}`) resolve to their modules.
lib = (src / "lib.rs").read_text()
alias = {}
for folder, names in re.findall(r"pub use (\w+)::\{([^}]*)\};", lib):
    for n in names.split(","):
        alias[n.strip()] = f"{folder}::{n.strip()}"
for m in mods:
    mods[m] = {alias.get(d.split("::")[0], d.split("::")[0]) + ("::" + "::".join(d.split("::")[1:]) if "::" in d else "") for d in mods[m]}
graph = {m: {t for d in ds if (t := top(d, known)) and t != m} for m, ds in mods.items()}
# cycles via DFS on the module graph (report SCCs > 1)
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: sccs.append(sorted(c))
for v in graph:
    if v not in index: strong(v)
for c in sccs: print("cycle among:", ", ".join(c))
upward = sorted((m, t) for m, ts in graph.items() for t in ts if layer.get(t.split("::")[0], 0) > layer.get(m.split("::")[0], 0))
for m, t in upward:
    print(f"{m} reaches up into {t}")
if sccs or upward:
    sys.exit(f"{len(sccs)} import cycle(s) and {len(upward)} upward reference(s) among ganad-core's {len(graph)} modules")
if False:
    sys.exit(f"{len(sccs)} import cycle(s) among ganad-core's {len(graph)} modules")
print(f"ok: {len(graph)} modules of ganad-core in {len(LAYERS)} layers, no import cycle, none reaching up")
