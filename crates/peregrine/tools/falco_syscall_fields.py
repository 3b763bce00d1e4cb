#!/usr/bin/env python3
"""Lists the fields Falco 0.44.1 shows for the syscall source
(`falco --list=syscall` with its container plugin loaded) as facts, for
Peregrine's listing test: name and description of every field that is
neither table-only, print-only, deprecated nor in a hidden class, in Falco's order.

Sources (bare mirrors): falcosecurity/libs at 0.25.4 (the filterchecks the
syscall source registers, filter_check_list.cpp order) and
falcosecurity/plugins container v0.7.1 (extract.cpp).

    python3 crates/peregrine/tools/falco_syscall_fields.py > fields.tsv  # then prepend the header
"""
import re
import subprocess

LIBS = "/work/.mirror/falcosecurity+libs/repo"
PLUGINS = "/work/.mirror/falcosecurity+plugins/repo"
# sinsp_filter_check_list order in libs 0.25.4.
CHECKS = ["gen_event", "event", "thread", "user", "group", "fd", "fspath", "utils", "fdlist"]


def show(repo, rev, path):
    return subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def strip_comments(src):
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("//", i):
            i = src.index("\n", i)
        elif src.startswith("/*", i):
            i = src.index("*/", i) + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def entries(body):
    """Top-level {...} items of an array initializer body."""
    depth, start, i, items = 0, None, 0, []
    while i < len(body):
        c = body[i]
        if c == '"':
            j = i + 1
            while body[j] != '"':
                j += 2 if body[j] == '\\' else 1
            i = j + 1
            continue
        if c == "{":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                items.append(body[start:i])
        i += 1
    return items


def strings(entry):
    """Adjacent string literals joined, in order, for the top level only."""
    parts, cur, depth, i = [], None, 0, 0
    while i < len(entry):
        c = entry[i]
        if c == '"':
            j = i + 1
            while entry[j] != '"':
                j += 2 if entry[j] == '\\' else 1
            lit = bytes(entry[i + 1:j], "utf-8").decode("unicode_escape")
            if depth == 0:
                cur = (cur or "") + lit
            i = j + 1
            continue
        if c in "{":
            depth += 1
        elif c in "}":
            depth -= 1
        elif c == "," and depth == 0 and cur is not None:
            parts.append(cur)
            cur = None
        i += 1
    if cur is not None:
        parts.append(cur)
    return parts


def libs_fields(check):
    src = strip_comments(show(LIBS, "0.25.4", f"userspace/libsinsp/sinsp_filtercheck_{check}.cpp"))
    if "FL_HIDDEN" in src:
        return  # libsinsp leaves hidden classes out of listings
    m = re.search(r"filtercheck_field_info\s+\w+_fields\[\]\s*=\s*\{", src)
    body = src[m.end():src.index("};", m.end())]
    for e in entries("{" + body + "}")[0:1]:
        for item in entries(e):
            s = strings(item)
            flags = item.split(",")[1]
            if any(f in flags for f in ("EPF_TABLE_ONLY", "EPF_DEPRECATED", "EPF_PRINT_ONLY")):
                continue
            yield s[0], s[2]


def container_fields():
    src = strip_comments(show(PLUGINS, "plugins/container/v0.7.1",
                              "plugins/container/src/caps/extract/extract.cpp"))
    m = re.search(r"field_info\s+fields\[\]\s*=\s*\{", src)
    body = src[m.end():src.index("};", m.end())]
    for item in entries("{" + body + "}")[0:1]:
        for f in entries(item):
            s = strings(f)
            yield s[0], s[2]


def main():
    seen = set()
    for check in CHECKS:
        for name, desc in libs_fields(check):
            if name not in seen:
                seen.add(name)
                print(f"{name}\t{' '.join(desc.split())}")
    for name, desc in container_fields():
        if name not in seen:
            seen.add(name)
            print(f"{name}\t{' '.join(desc.split())}")


if __name__ == "__main__":
    main()
