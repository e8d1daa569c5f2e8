"""No import circles in ganad-core: the modules' `crate::` and `super::` references (tests left out)
form a graph without cycles. Exits 1 naming the modules of each cycle.

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
if sccs:
    sys.exit(f"{len(sccs)} import cycle(s) among ganad-core's {len(graph)} modules")
print(f"ok: {len(graph)} modules of ganad-core, no import cycle")
