#!/usr/bin/env python3
"""Transcribes libscap's event table facts into Peregrine's Rust tables.

Reads a falcosecurity/libs checkout (the event numbers, names, categories,
flags, per-param names/types/print formats, flag/enum name tables and the
PPM_SC syscall names) and writes `src/table/gen_*.rs` in Peregrine's own
form. Only facts cross over; the Rust side (types, lookups, printing) is ours.

    LIBS_REV=<commit> python3 tools/gen_tables.py LIBS_CHECKOUT [OLD_LIBS_CHECKOUT]

With OLD_LIBS_CHECKOUT (e.g. the libs that Debian's sysdig 0.29 uses), it
also prints the places where a param changed in place between the two
versions (useful to know where old captures print differently).
"""
import os
import re
import sys


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


class Macros:
    """#define NAME VALUE and enum constants, evaluated as Python ints."""

    def __init__(self):
        self.raw = {}
        self.cache = {}

    def add_defines(self, src):
        src = re.sub(r"\\\n", " ", src)
        for m in re.finditer(r"^\s*#define\s+([A-Za-z_]\w*)\s+([^\n]*?)\s*(?://.*|/\*.*)?$", src, re.M):
            name, val = m.group(1), m.group(2).strip()
            if "(" in name:
                continue
            self.raw.setdefault(name, val)

    def add_enum_consts(self, src):
        for body in re.findall(r"enum[^{;]*\{(.*?)\}", src, re.S):
            body = re.sub(r"/\*.*?\*/", " ", body, flags=re.S)
            body = re.sub(r"//[^\n]*", " ", body)
            last = -1
            for item in body.split(","):
                item = item.strip()
                if not item or item.startswith("#"):
                    continue
                if "=" in item:
                    name, val = [x.strip() for x in item.split("=", 1)]
                    self.raw.setdefault(name, val)
                    try:
                        last = self.eval(name)
                    except Exception:
                        last = None
                else:
                    name = item
                    if re.match(r"^[A-Za-z_]\w*$", name) and last is not None:
                        last += 1
                        self.raw.setdefault(name, str(last))

    def eval(self, expr):
        if expr in self.cache:
            return self.cache[expr]
        e = expr
        e = re.sub(r"\(\s*(?:u?int\d+_t|unsigned|long|int|enum\s+\w+)\s*\)", "", e)
        e = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", e)
        e = re.sub(r"\b0([0-7]+)\b", r"0o\1", e)  # C octal

        def sub(m):
            n = m.group(0)
            if n in self.raw:
                return "(" + str(self.eval(self.raw[n])) + ")"
            raise KeyError(n)

        e = re.sub(r"\b[A-Za-z_]\w*\b", sub, e)
        v = eval(e)  # noqa: S307 - trusted local checkout, arithmetic only
        self.cache[expr] = v
        return v


def split_top(s, sep=","):
    out, depth, cur, q = [], 0, [], False
    i = 0
    while i < len(s):
        c = s[i]
        if c == '"':
            q = not q
            cur.append(c)
        elif q:
            if c == "\\":
                cur.append(c)
                i += 1
                cur.append(s[i])
            else:
                cur.append(c)
        elif c in "{([":
            depth += 1
            cur.append(c)
        elif c in "})]":
            depth -= 1
            cur.append(c)
        elif c == sep and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def brace_body(src, start):
    """Returns (body, end) for the brace group opening at src[start] == '{'."""
    assert src[start] == "{"
    depth, q, i = 0, False, start
    while i < len(src):
        c = src[i]
        if c == '"' and src[i - 1] != "\\":
            q = not q
        elif not q:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return src[start + 1 : i], i + 1
        i += 1
    raise ValueError("unbalanced")


def parse_event_enum(hdr):
    m = re.search(r"typedef\s+enum\s*\{\s*PPME_GENERIC_E\s*=\s*0.*?\}", hdr, re.S) or re.search(
        r"enum\s+ppm_event_type\s*\{.*?\}", hdr, re.S
    )
    names = {}
    for nm, val in re.findall(r"(PPME_\w+)\s*=\s*(\d+)", m.group(0)):
        names.setdefault(int(val), nm)
    mx = int(re.search(r"PPM_EVENT_MAX\s*=\s*(\d+)", m.group(0)).group(1))
    return names, mx


def parse_params(body, macros):
    params = []
    if not body.strip():
        return params
    for p in split_top(body):
        p = p.strip()
        if not p:
            continue
        assert p[0] == "{" and p[-1] == "}", p
        f = split_top(p[1:-1])
        name = f[0].strip().strip('"')
        ptype = f[1].strip()
        fmt = f[2].strip()
        info = f[3].strip() if len(f) > 3 else None
        ninfo = f[4].strip() if len(f) > 4 else None
        aux = None
        if info and info not in ("0", "NULL"):
            dm = re.match(r"DIRFD_PARAM\((\d+)\)", info)
            if dm:
                aux = ("dirfd", int(dm.group(1)))
            elif ptype == "PT_DYN":
                aux = ("dyn", info)
            else:
                aux = ("flags", info)
        params.append((name, ptype, fmt, aux))
    return params


def parse_event_table(src, enum_names, macros):
    src = re.sub(r"//[^\n]*", " ", src)
    start = src.index("g_event_info[")
    brace = src.index("{", src.index("=", start))
    body, _ = brace_body(src, brace)
    entries = {}
    designated = "[PPME_" in body
    if designated:
        for m in re.finditer(r"\[(PPME_\w+)\]\s*=\s*", body):
            name = m.group(1)
            b0 = body.index("{", m.end())
            ebody, _ = brace_body(body, b0)
            entries[macros.eval(name)] = (name, ebody)
    else:
        body_nc = body
        idx = 0
        pos = 0
        while True:
            m = re.compile(r"/\*\s*(PPME_\w+)\s*\*/\s*\{").search(body_nc, pos)
            if not m:
                break
            b0 = m.end() - 1
            ebody, end = brace_body(body_nc, b0)
            entries[idx] = (m.group(1), ebody)
            idx += 1
            pos = end
    out = {}
    for num, (label, ebody) in entries.items():
        ebody = re.sub(r"/\*.*?\*/", " ", ebody, flags=re.S)
        f = split_top(ebody)
        name = f[0].strip().strip('"')
        cat = f[1].strip()
        flags = f[2].strip()
        nparams = int(macros.eval(f[3].strip())) if len(f) > 3 else 0
        params = []
        if len(f) > 4:
            pb = f[4].strip()
            assert pb[0] == "{"
            params = parse_params(pb[1:-1], macros)
        if len(params) != nparams:
            # The count is what readers use; extra descriptions are never reached.
            print("note: %s declares %d params but describes %d" % (label, nparams, len(params)), file=sys.stderr)
            params = params[:nparams]
        out[num] = dict(label=enum_names.get(num, label), name=name, cat=cat, flags=flags, params=params)
    return out


def parse_name_values(src):
    tables = {}
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    # Userspace builds define no CONFIG_64BIT, so #ifndef'd entries are in: keep them.
    src = re.sub(r"^\s*#[^\n]*", " ", src, flags=re.M)
    for m in re.finditer(r"const\s+struct\s+ppm_name_value\s+(\w+)\s*\[\s*\]\s*=\s*", src):
        b0 = src.index("{", m.end())
        body, _ = brace_body(src, b0)
        items = []
        for it in split_top(body):
            it = it.strip()
            if not it:
                continue
            f = split_top(it[1:-1])
            if f[0].strip() in ("0", "NULL"):
                break
            items.append((f[0].strip().strip('"'), f[1].strip()))
        tables[m.group(1)] = items
    return tables


def parse_dyn(src, macros):
    tables = {}
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    for m in re.finditer(r"const\s+struct\s+ppm_param_info\s+(\w+)\s*\[[^\]]*\]\s*=\s*", src):
        b0 = src.index("{", m.end())
        body, _ = brace_body(src, b0)
        items = {}
        for dm in re.finditer(r"\[(\w+)\]\s*=\s*\{\s*\{[^}]*\}\s*,\s*(PT_\w+)\s*,\s*(PF_\w+)", body):
            items[macros.eval(dm.group(1))] = (dm.group(2), dm.group(3))
        tables[m.group(1)] = [items[i] for i in range(len(items))]
    return tables


def camel(s):
    return "".join(w.capitalize() for w in s.lower().split("_"))


def load(root):
    hdr = read(root, "driver/ppm_events_public.h")
    macros = Macros()
    macros.add_defines(hdr)
    macros.add_enum_consts(hdr)
    enum_names, evmax = parse_event_enum(hdr)
    events = parse_event_table(read(root, "driver/event_table.c"), enum_names, macros)
    flags = parse_name_values(read(root, "driver/flags_table.c"))
    dyn = {}
    if os.path.exists(os.path.join(root, "driver/dynamic_params_table.c")):
        dyn = parse_dyn(read(root, "driver/dynamic_params_table.c"), macros)
    sc = {}
    m = re.search(r"#define\s+PPM_SC_FIELDS(.*?)\n\s*\n", hdr, re.S)
    if m:
        for nm, v in re.findall(r"PPM_SC_X\((\w+),\s*(\d+)\)", m.group(1)):
            sc[int(v)] = nm.lower()
    return dict(macros=macros, enum=enum_names, max=evmax, events=events, flags=flags, dyn=dyn, sc=sc)


REV = os.environ.get("LIBS_REV", "unknown revision")


def rust_flags_expr(flags):
    parts = [x.strip() for x in flags.replace("(enum ppm_event_flags)", "").strip("()").split("|")]
    parts = [p for p in parts if p and p not in ("EF_NONE", "EC_UNKNOWN")]
    if not parts:
        return "0"
    return " | ".join(parts)


def emit(lib, out_dir):
    macros = lib["macros"]
    used_flags = set()
    used_dyn = set()
    for e in lib["events"].values():
        for (_, _, _, aux) in e["params"]:
            if aux and aux[0] == "flags":
                used_flags.add(aux[1])
            if aux and aux[0] == "dyn":
                used_dyn.add(aux[1])

    # ---- flag tables
    fl = []
    fl.append("// @generated by tools/gen_tables.py from falcosecurity/libs %s (facts: flag names and values).\n" % REV)
    fl.append("// Do not edit by hand; regenerate instead.\n\n")
    fl.append("use super::NameValue;\n\n")
    fl.append("const fn nv(name: &'static str, value: u32) -> NameValue {\n    NameValue { name, value }\n}\n\n")
    for tname in sorted(lib["flags"]):
        items = lib["flags"][tname]
        fl.append("pub static %s: &[NameValue] = &[\n" % tname.upper())
        for (n, v) in items:
            val = macros.eval(v) & 0xFFFFFFFF
            fl.append('    nv("%s", 0x%x),\n' % (n, val))
        fl.append("];\n\n")
    with open(os.path.join(out_dir, "gen_flags.rs"), "w") as f:
        f.write("".join(fl))

    # ---- dynamic param tables
    # ---- events
    ev = []
    ev.append("// @generated by tools/gen_tables.py from falcosecurity/libs %s (facts: event numbers,\n" % REV)
    ev.append("// names, categories, flags and per-param names, types and print formats).\n")
    ev.append("// Do not edit by hand; regenerate instead.\n\n")
    ev.append("use super::category::*;\nuse super::eflags::*;\nuse super::flags::*;\n")
    ev.append("use super::{EventInfo, ParamAux, ParamInfo, ParamType as T, PrintFmt as F};\n\n")
    ev.append("/// Number of event types (`PPM_EVENT_MAX`).\npub const EVENT_MAX: usize = %d;\n\n" % lib["max"])
    for num in range(lib["max"]):
        label = lib["enum"].get(num)
        if label:
            ev.append("pub const %s: u16 = %d;\n" % (label, num))
    ev.append("\n")
    for dname in sorted(used_dyn):
        items = lib["dyn"][dname]
        ev.append("static %s: &[ParamInfo] = &[\n" % dname.upper())
        for (pt, pf) in items:
            ev.append('    ParamInfo { name: "", ty: T::%s, fmt: F::%s, aux: ParamAux::None },\n' % (camel(pt[3:]), camel(pf[3:])))
        ev.append("];\n\n")
    ev.append("/// `PPME_*` constant name per event type.\n")
    ev.append("pub static EVENT_CONST_NAMES: [&str; EVENT_MAX] = [\n")
    for num in range(lib["max"]):
        ev.append('    "%s",\n' % lib["events"][num]["label"])
    ev.append("];\n\n")
    ev.append("/// The table, indexed by event type.\n")
    ev.append("pub static EVENTS: [EventInfo; EVENT_MAX] = [\n")
    for num in range(lib["max"]):
        e = lib["events"][num]
        ev.append("    // %d %s\n" % (num, e["label"]))
        cat = rust_flags_expr(e["cat"])
        flg = rust_flags_expr(e["flags"])
        ev.append('    EventInfo { name: "%s", category: %s, flags: %s, params: &[\n' % (e["name"], cat, flg))
        for (pn, pt, pf, aux) in e["params"]:
            if aux is None:
                a = "ParamAux::None"
            elif aux[0] == "flags":
                a = "ParamAux::Flags(%s)" % aux[1].upper()
            elif aux[0] == "dirfd":
                a = "ParamAux::DirFd(%d)" % aux[1]
            else:
                a = "ParamAux::Dyn(%s)" % aux[1].upper()
            ev.append('        ParamInfo { name: "%s", ty: T::%s, fmt: F::%s, aux: %s },\n' % (pn, camel(pt[3:]), camel(pf[3:]), a))
        ev.append("    ] },\n")
    ev.append("];\n")
    with open(os.path.join(out_dir, "gen_events.rs"), "w") as f:
        f.write("".join(ev))

    # ---- syscall names
    sc = lib["sc"]
    mx = max(sc) + 1
    s = []
    s.append("// @generated by tools/gen_tables.py from falcosecurity/libs %s (facts: PPM_SC syscall codes).\n" % REV)
    s.append("// Do not edit by hand; regenerate instead.\n\n")
    s.append("/// Number of syscall codes (`PPM_SC_MAX`).\npub const SC_MAX: usize = %d;\n\n" % mx)
    s.append("/// Lower-case syscall name per `PPM_SC_*` code (empty where unassigned).\n")
    s.append("pub static SYSCALL_NAMES: [&str; SC_MAX] = [\n")
    for i in range(mx):
        s.append('    "%s",\n' % sc.get(i, ""))
    s.append("];\n")
    with open(os.path.join(out_dir, "gen_syscalls.rs"), "w") as f:
        f.write("".join(s))


def compare(new, old):
    om = old["macros"]
    nm = new["macros"]
    for num, oe in sorted(old["events"].items()):
        ne = new["events"].get(num)
        if ne is None:
            print("old-only event", num, oe["label"])
            continue
        if oe["name"] != ne["name"]:
            print("name %d %s: %r -> %r" % (num, ne["label"], oe["name"], ne["name"]))
        for i, op in enumerate(oe["params"]):
            if i >= len(ne["params"]):
                print("param removed %d %s #%d %s" % (num, ne["label"], i, op[0]))
                continue
            np_ = ne["params"][i]
            if op[:3] != np_[:3]:
                print("param changed %d %s #%d %s -> %s" % (num, ne["label"], i, op[:3], np_[:3]))
            if (op[3] or (None,))[0] != (np_[3] or (None,))[0] or (op[3] and np_[3] and op[3][1] != np_[3][1]):
                print("param aux changed %d %s #%d %s -> %s" % (num, ne["label"], i, op[3], np_[3]))
    for t, items in old["flags"].items():
        nitems = new["flags"].get(t)
        if nitems is None:
            print("flag table gone", t)
            continue
        ov = [(n, om.eval(v) & 0xFFFFFFFF) for n, v in items]
        nv = [(n, nm.eval(v) & 0xFFFFFFFF) for n, v in nitems]
        if nv[: len(ov)] != ov:
            print("flag table differs", t)
            print("   old", ov)
            print("   new", nv)


def main():
    root = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, "..", "src", "table")
    lib = load(root)
    emit(lib, out_dir)
    if len(sys.argv) > 2:
        compare(lib, load(sys.argv[2]))


if __name__ == "__main__":
    main()
