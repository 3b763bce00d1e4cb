#!/usr/bin/env python3
"""Transcribe the field tables (facts: names, types, flags, print formats,
display names, descriptions) that Falco 0.44.1 offers into Rust tables.

Sources (local bare mirrors, see the project brief):
  - falcosecurity/libs at tag 0.25.4 (the libs Falco 0.44.1 is built on):
    userspace/libsinsp/sinsp_filtercheck_*.cpp field arrays and class infos
  - falcosecurity/plugins: container plugin v0.7.1 (the one Falco 0.44.1
    ships) src/caps/extract/extract.cpp; k8saudit and json plugins (Go)

Writes crates/rules/src/fields/gen_fields.rs. Run from the repository root:
    python3 crates/rules/tools/gen_fields.py
"""
import os
import re
import subprocess
import sys

LIBS = "/work/.mirror/falcosecurity+libs/repo"
PLUGINS = "/work/.mirror/falcosecurity+plugins/repo"
LIBS_REV = "0.25.4"
CONTAINER_REV = "plugins/container/v0.7.1"
K8SAUDIT_REV = "plugins/k8saudit/v0.18.0"
JSON_REV = "plugins/json/v0.7.4"

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "fields", "gen_fields.rs")


def git_show(repo, rev, path):
    return subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def c_unescape(s):
    return bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


TOKEN = re.compile(r'''
    (?P<ws>\s+) | (?P<lc>//[^\n]*) | (?P<bc>/\*.*?\*/) |
    (?P<str>"(?:[^"\\]|\\.)*") | (?P<id>[A-Za-z_][A-Za-z0-9_:]*) |
    (?P<num>[0-9][0-9A-Za-z_.]*) | (?P<p>.)''', re.S | re.X)


def tokens(src):
    for m in TOKEN.finditer(src):
        k = m.lastgroup
        if k in ("ws", "lc", "bc"):
            continue
        yield k, m.group(k)


def parse_braced(toks, i):
    """toks[i] is '{'; returns (nested list, next index). Adjacent strings
    are joined; `a | b` flag expressions become lists of identifiers."""
    assert toks[i][1] == "{"
    i += 1
    items, cur = [], []
    while True:
        k, v = toks[i]
        if v == "}":
            if cur:
                items.append(cur)
            return items, i + 1
        if v == "{":
            sub, i = parse_braced(toks, i)
            cur.append(("list", sub))
            continue
        if v == ",":
            items.append(cur)
            cur = []
        elif k == "str":
            if cur and cur[-1][0] == "str":
                cur[-1] = ("str", cur[-1][1] + c_unescape(v[1:-1]))
            else:
                cur.append(("str", c_unescape(v[1:-1])))
        elif v not in ("|", "(", ")"):
            cur.append((k, v))
        i += 1


def find_array(src, name):
    toks = list(tokens(src))
    for i in range(len(toks)):
        if toks[i][1] == name and toks[i + 1][1] == "[" and toks[i + 2][1] == "]":
            j = i + 3
            while toks[j][1] != "{":
                j += 1
            return parse_braced(toks, j)[0]
    raise SystemExit(f"array {name} not found")


def find_class_info(src):
    toks = list(tokens(src))
    for i in range(len(toks)):
        if toks[i][1] == "s_field_infos" and toks[i + 1][1] == "=":
            items, _ = parse_braced(toks, i + 2)
            name, short, desc = (it[0][1] for it in items[:3])
            flags = " ".join(v for _, v in items[-1])
            return name, short, desc, "FL_HIDDEN" in flags
    raise SystemExit("class info not found")


PT_OF_PLUGIN = {"FTYPE_STRING": "PT_CHARBUF", "FTYPE_UINT64": "PT_UINT64",
                "FTYPE_BOOL": "PT_BOOL", "FTYPE_RELTIME": "PT_RELTIME",
                "FTYPE_ABSTIME": "PT_ABSTIME", "FTYPE_IPADDR": "PT_IPADDR",
                "FTYPE_IPNET": "PT_IPNET", "string": "PT_CHARBUF", "uint64": "PT_UINT64",
                "bool": "PT_BOOL", "reltime": "PT_RELTIME", "abstime": "PT_ABSTIME",
                "ipaddr": "PT_IPADDR", "ipnet": "PT_IPNET"}


def sinsp_fields(stem, array):
    src = git_show(LIBS, LIBS_REV, f"userspace/libsinsp/sinsp_filtercheck_{stem}.cpp")
    name, short, desc, hidden = find_class_info(src)
    fields = []
    for entry in find_array(src, array):
        # each entry: [("list", [[type], [flags...], [fmt], [name], [display], [desc]])]
        (_, parts), = entry
        ty = parts[0][0][1]
        flags = [v for k, v in parts[1] if k == "id" and v.startswith("EPF_") and v != "EPF_NONE"]
        fmt = parts[2][0][1]
        fname = parts[3][0][1]
        display = parts[4][0][1] if len(parts) > 4 and parts[4] else ""
        fdesc = parts[5][0][1] if len(parts) > 5 and parts[5] else ""
        fields.append(dict(name=fname, display=display, desc=fdesc, type=ty, flags=flags, fmt=fmt))
    return dict(name=name, shortdesc=short, desc=desc, hidden=hidden, fields=fields)


def container_fields():
    src = git_show(PLUGINS, CONTAINER_REV, "plugins/container/src/caps/extract/extract.cpp")
    fields = []
    for entry in find_array(src, "fields"):
        (_, parts), = entry
        ty = PT_OF_PLUGIN[parts[0][0][1].split("::")[-1]]
        fname, display, fdesc = parts[1][0][1], parts[2][0][1], parts[3][0][1]
        flags = ["EPF_NO_PTR_STABILITY"]
        if len(parts) > 4 and parts[4] and parts[4][0][0] == "id":
            arg = parts[4][0][1]
            if arg == "req_both_arg":
                flags += ["EPF_ARG_REQUIRED", "EPF_ARG_INDEX", "EPF_ARG_KEY", "EPF_ARG_ALLOWED"]
            elif arg == "req_key_arg":
                flags += ["EPF_ARG_REQUIRED", "EPF_ARG_KEY", "EPF_ARG_ALLOWED"]
            else:
                raise SystemExit(f"unknown arg {arg}")
        if len(parts) > 5 and parts[5] and parts[5][0][1] == "true":
            flags.append("EPF_IS_LIST")
        if len(parts) > 6 and parts[6] and parts[6][0][0] == "list":
            for prop in parts[6][0][1]:
                for k, v in prop:
                    if "hidden" in v.lower():
                        flags.append("EPF_TABLE_ONLY")
        if len(parts) > 7 and parts[7] and parts[7][0][1] == "true":
            flags.append("EPF_FORMAT_SUGGESTED")
        fields.append(dict(name=fname, display=display, desc=fdesc, type=ty, flags=flags, fmt="PF_DEC"))
    return dict(name="container (plugin)", shortdesc="", desc="", hidden=False, fields=fields)


GO_ENTRY = re.compile(r"\{(.*?)\n\t\t\},?", re.S)


def go_string(expr):
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|`([^`]*)`', expr)
    return "".join(c_unescape(a) if a else b for a, b in parts)


def go_fields(rev, path, func, class_name):
    src = git_show(PLUGINS, rev, path)
    body = src[src.index(func):]
    body = body[:body.index("\n}\n")]
    fields = []
    for m in re.finditer(r"\{\s*\n((?:\t\t\t.*\n)+?)\t\t\}", body):
        block = m.group(1)
        def key(k):
            km = re.search(rf"^\s*{k}:\s*(.*?),?\s*$", block, re.M)
            return km.group(1) if km else None
        name = go_string(key("Name") or "")
        if not name:
            continue
        flags = ["EPF_NO_PTR_STABILITY"]
        if key("IsList") == "true":
            flags.append("EPF_IS_LIST")
        argm = re.search(r"Arg:\s*sdk\.FieldEntryArg\{(.*?)\}", block, re.S)
        if argm:
            a = argm.group(1)
            if re.search(r"IsRequired:\s*true", a):
                flags.append("EPF_ARG_REQUIRED")
            if re.search(r"IsIndex:\s*true", a):
                flags += ["EPF_ARG_INDEX", "EPF_ARG_ALLOWED"]
            if re.search(r"IsKey:\s*true", a):
                flags += ["EPF_ARG_KEY", "EPF_ARG_ALLOWED"]
        props = key("Properties") or ""
        if "hidden" in props:
            flags.append("EPF_TABLE_ONLY")
        if "info" in props:
            flags.append("EPF_INFO")
        if "conversation" in props:
            flags.append("EPF_CONVERSATION")
        if key("AddOutput") == "true":
            flags.append("EPF_FORMAT_SUGGESTED")
        fields.append(dict(name=name, display=go_string(key("Display") or ""),
                           desc=go_string(key("Desc") or ""), type=PT_OF_PLUGIN[go_string(key("Type"))],
                           flags=sorted(set(flags), key=flags.index), fmt="PF_DEC"))
    # The k8saudit plugin repeats the per-container fields for init and
    # ephemeral containers through a helper.
    helper = src.find("func containerListFields(")
    if helper >= 0:
        hbody = src[helper:]
        hbody = hbody[:hbody.index("\n}\n")]
        for call in re.finditer(r'containerListFields\("(\w+)", "([^"]+)", (true|false)\)', body):
            lst, label, host_port = call.group(1), call.group(2), call.group(3) == "true"
            prefix = "ka.req.pod." + lst + "."

            def ev(expr):
                expr = expr.replace("+label+", '+"' + label + '"+').replace("+prefix+", '+"' + prefix + '"+')
                return go_string(expr)
            for m in re.finditer(r'entry\("([^"]+)", (.+?)\),?\n', hbody):
                name = m.group(1)
                if name == "host_port" and not host_port:
                    continue
                fields.append(dict(name=prefix + name, display="", desc=ev(m.group(2)), type="PT_CHARBUF",
                                   flags=["EPF_NO_PTR_STABILITY", "EPF_IS_LIST", "EPF_ARG_INDEX", "EPF_ARG_ALLOWED"],
                                   fmt="PF_DEC"))
    return dict(name=class_name, shortdesc="", desc="", hidden=False, fields=fields)


FORMATS = {"PF_NA": "Na", "PF_DEC": "Dec", "PF_HEX": "Hex", "PF_10_PADDED_DEC": "PaddedDec",
           "PF_ID": "Id", "PF_DIR": "Dir", "PF_OCT": "Oct"}


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def emit(classes):
    out = [
        "// @generated by tools/gen_fields.py from falcosecurity/libs " + LIBS_REV
        + ", falcosecurity/plugins " + CONTAINER_REV + ", " + K8SAUDIT_REV + ", " + JSON_REV + ".",
        "// Facts only: field names, types, flags, print formats, display names and descriptions.",
        "// Do not edit by hand; regenerate instead.",
        "",
        "use super::{ClassInfo, FieldInfo, FieldType as T, PrintFormat as P, flags::*};",
        "",
    ]
    for var, cls in classes:
        out.append(f"pub(super) static {var}: ClassInfo = ClassInfo {{")
        out.append(f"    name: {rust_str(cls['name'])},")
        out.append(f"    shortdesc: {rust_str(cls['shortdesc'])},")
        out.append(f"    desc: {rust_str(cls['desc'])},")
        out.append(f"    hidden: {'true' if cls['hidden'] else 'false'},")
        out.append("    fields: &[")
        for f in cls["fields"]:
            ty = "T::" + "".join(w.capitalize() for w in f["type"][3:].split("_"))
            fmt = "P::" + FORMATS[f["fmt"]]
            flags = " | ".join(fl[4:] for fl in f["flags"]) or "NONE"
            out.append(f"        FieldInfo {{ name: {rust_str(f['name'])}, ty: {ty}, flags: {flags}, "
                       f"format: {fmt}, display: {rust_str(f['display'])}, desc: {rust_str(f['desc'])} }},")
        out.append("    ],")
        out.append("};")
        out.append("")
    return "\n".join(out)


def main():
    classes = [
        ("GEN_EVENT", sinsp_fields("gen_event", "sinsp_filter_check_gen_event_fields")),
        ("EVENT", sinsp_fields("event", "sinsp_filter_check_event_fields")),
        ("THREAD", sinsp_fields("thread", "sinsp_filter_check_thread_fields")),
        ("USER", sinsp_fields("user", "sinsp_filter_check_user_fields")),
        ("GROUP", sinsp_fields("group", "sinsp_filter_check_group_fields")),
        ("FD", sinsp_fields("fd", "sinsp_filter_check_fd_fields")),
        ("FSPATH", sinsp_fields("fspath", "sinsp_filter_check_fspath_fields")),
        ("UTILS", sinsp_fields("utils", "sinsp_filter_check_utils_fields")),
        ("FDLIST", sinsp_fields("fdlist", "sinsp_filter_check_fdlist_fields")),
        ("CONTAINER", container_fields()),
        ("K8SAUDIT", go_fields(K8SAUDIT_REV, "plugins/k8saudit/pkg/k8saudit/fields.go",
                               "Fields() []sdk.FieldEntry", "k8saudit (plugin)")),
        ("JSON", go_fields(JSON_REV, "plugins/json/pkg/json/json.go",
                           "Fields() []sdk.FieldEntry", "json (plugin)")),
    ]
    text = emit(classes)
    with open(OUT, "w") as f:
        f.write(text)
    for var, cls in classes:
        print(var, cls["name"], len(cls["fields"]), file=sys.stderr)


if __name__ == "__main__":
    main()
