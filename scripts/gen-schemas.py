#!/usr/bin/env python3
"""Generates src/schemas/catalog.json, the compact schema table FV505 embeds, from the JSON
schemas of github.com/fluxcd/flux-schema (catalog/latest, Apache-2.0).

    python3 scripts/gen-schemas.py [CATALOG_DIR] [OUT_FILE]

Every schema node is interned into one table (`nodes`), children referred to by index, so the pod
template the workload kinds share is stored once. Keys are short:

  t     type mask: 1 string, 2 integer, 4 number, 8 boolean, 16 object, 32 array, 64 null
        (absent: any type); int-or-string is 3 (or 67 with null)
  p     properties {name: node}     r   required [names]
  a     additionalProperties: false, or the node every other key's value must match
  i     items node                  u   x-kubernetes-preserve-unknown-fields: true
  e     enum values                 k   const value
  pt    pattern                     f   format
  mn mx minimum, maximum            xn xx exclusive minimum, exclusive maximum (true)
  ln lx minLength, maxLength        in ix minItems, maxItems       px maxProperties
  v     x-kubernetes-validations [[rule, message], ...]
  em    x-kubernetes-embedded-resource: true   df  has a default (true)
  d     the description's first sentence, when at most 200 characters
  o1 oa ol   oneOf, anyOf, allOf alternatives [nodes]       on  not node

`kinds` maps "apiVersion/kind" (kind lower-cased, as the catalog's file names) to a node.
A `oneOf`/`anyOf` of bare types (int-or-string) widens the type mask; other combinators
(Flagger's and Gateway API's `oneOf`/`anyOf`/`not` over `required`, formats and enums) are
kept as alternatives, which FV505 judges. The output is deterministic.
"""

import json
import os
import sys

CATALOG_COMMIT = "9946a7cd"
SOURCE = "github.com/fluxcd/flux-schema catalog/latest at " + CATALOG_COMMIT + " (Apache-2.0)"

TYPES = {"string": 1, "integer": 2, "number": 4, "boolean": 8, "object": 16, "array": 32, "null": 64}


def first_sentence(text):
    text = " ".join(text.split())
    if len(text) <= 200:
        return text
    cut = text.find(". ")
    if 0 < cut < 200:
        return text[: cut + 1]
    return None


class Table:
    def __init__(self):
        self.nodes = []
        self.index = {}

    def intern(self, node):
        key = json.dumps(node, sort_keys=True, separators=(",", ":"))
        found = self.index.get(key)
        if found is None:
            found = len(self.nodes)
            self.nodes.append(node)
            self.index[key] = found
        return found

    def add(self, schema, object_meta=None, depth=0):
        """Interns `schema`; `object_meta` replaces a bare `metadata: {type: object}` at the top."""
        out = {}
        mask = 0
        t = schema.get("type")
        if isinstance(t, str):
            mask = TYPES.get(t, 0)
        elif isinstance(t, list):
            for x in t:
                mask |= TYPES.get(x, 0)
        alternatives = {}
        for src, dst in (("oneOf", "o1"), ("anyOf", "oa"), ("allOf", "ol")):
            one = schema.get(src)
            if not isinstance(one, list) or not one:
                continue
            if src != "allOf" and all(isinstance(o, dict) and set(o) == {"type"} for o in one):
                for o in one:
                    mask |= TYPES.get(o["type"], 0)
                continue
            alternatives[dst] = [self.add(o, None, depth + 1) for o in one if isinstance(o, dict)]
        if isinstance(schema.get("not"), dict):
            alternatives["on"] = self.add(schema["not"], None, depth + 1)
        if schema.get("x-kubernetes-int-or-string"):
            mask |= 3
        if schema.get("nullable"):
            mask |= 64 if mask else 0
        if mask:
            out["t"] = mask
        props = schema.get("properties")
        if isinstance(props, dict):
            p = {}
            for name in sorted(props):
                sub = props[name]
                if (
                    depth == 0
                    and name == "metadata"
                    and object_meta is not None
                    and "properties" not in sub
                ):
                    p[name] = object_meta
                else:
                    p[name] = self.add(sub, None, depth + 1)
            out["p"] = p
        if schema.get("required"):
            out["r"] = sorted(set(schema["required"]))
        ap = schema.get("additionalProperties")
        if ap is False:
            out["a"] = False
        elif isinstance(ap, dict):
            out["a"] = self.add(ap, None, depth + 1)
        items = schema.get("items")
        if isinstance(items, dict):
            out["i"] = self.add(items, None, depth + 1)
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            out["u"] = True
        if schema.get("x-kubernetes-embedded-resource"):
            out["em"] = True
        if "default" in schema:
            out["df"] = True
        for src, dst in (
            ("enum", "e"),
            ("const", "k"),
            ("pattern", "pt"),
            ("format", "f"),
            ("minimum", "mn"),
            ("maximum", "mx"),
            ("exclusiveMinimum", "xn"),
            ("exclusiveMaximum", "xx"),
            ("minLength", "ln"),
            ("maxLength", "lx"),
            ("minItems", "in"),
            ("maxItems", "ix"),
            ("maxProperties", "px"),
        ):
            if src in schema:
                out[dst] = schema[src]
        out.update(alternatives)
        rules = schema.get("x-kubernetes-validations")
        if rules:
            out["v"] = [[r.get("rule", ""), r.get("message", "")] for r in rules]
        desc = schema.get("description")
        if isinstance(desc, str):
            d = first_sentence(desc)
            if d:
                out["d"] = d
        return self.intern(out)


def api_version(group_dir, version):
    return version if group_dir == "core" else group_dir + "/" + version


def generate(catalog):
    table = Table()
    meta_schema = json.load(open(os.path.join(catalog, "core", "configmap_v1.json")))
    object_meta = table.add(meta_schema["properties"]["metadata"], None, 1)
    kinds = {}
    for group in sorted(os.listdir(catalog)):
        gdir = os.path.join(catalog, group)
        if not os.path.isdir(gdir):
            continue
        names = sorted(n for n in os.listdir(gdir) if n.endswith(".json"))
        for name in names:
            stem = name[: -len(".json")]
            kind, _, version = stem.rpartition("_")
            # `<kind>list`: the API's list wrappers, never written in a repository.
            if kind.endswith("list") and (kind[:-4] + "_" + version + ".json") in names:
                continue
            schema = json.load(open(os.path.join(gdir, name)))
            kinds[api_version(group, version) + "/" + kind] = table.add(schema, object_meta)
    return {
        "source": SOURCE,
        "kinds": dict(sorted(kinds.items())),
        "nodes": table.nodes,
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    catalog = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "shared", "schemas", "flux-schema-catalog"
    )
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "src", "schemas", "catalog.json")
    data = generate(catalog)
    text = json.dumps(data, sort_keys=False, separators=(",", ":"), ensure_ascii=False)
    # One node a line: a regenerated table diffs line by line.
    text = text.replace(',"nodes":[', ',"nodes":[\n').replace("},{", "},\n{")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
