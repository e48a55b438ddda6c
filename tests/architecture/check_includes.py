#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The dependency rule of src/: every `#include "..."` of a module must name its own folder
or a module the rule in docs/architecture.md (the ```include-rule block) lets it include.

  check_includes.py ROOT              checks ROOT/src and ROOT/include/h265direct
  check_includes.py --self-test ROOT  checks that a copy of the rule catches a bad include

An include names a module by its first folder: "capture/v4l2_camera.hpp" is capture's;
"h265direct/engine.hpp" (the engine's public face) is engine's, every other public header
"h265direct/..." is api's. Fails (exit 1) naming file:line for each include against the
rule, for a module the rule does not list, and for a rule that is not one direction.
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_rule(doc_path):
    text = open(doc_path, encoding="utf-8").read()
    m = re.search(r"^```include-rule\n(.*?)^```", text, re.M | re.S)
    if not m:
        sys.exit(f"{doc_path}: no ```include-rule block")
    rule = {}
    for n, line in enumerate(m.group(1).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        module, sep, allowed = line.partition(":")
        if not sep:
            sys.exit(f"{doc_path}: include-rule line {n}: expected 'module: modules...'")
        rule[module.strip()] = set(allowed.split())
    return rule


def cycle_in(rule):
    """A module that can reach itself through the rule, or None."""
    def reaches(start, target, seen):
        for m in rule.get(start, ()):
            if m == target:
                return True
            if m not in seen:
                seen.add(m)
                if reaches(m, target, seen):
                    return True
        return False
    for module in rule:
        if reaches(module, module, set()):
            return module
    return None


def module_of_include(path):
    if path == "h265direct/engine.hpp":
        return "engine"
    first = path.split("/", 1)[0]
    return "api" if first == "h265direct" else first


def check(root, rule):
    problems = []
    cyclic = cycle_in(rule)
    if cyclic:
        problems.append(f"include-rule: {cyclic} can reach itself: the rule must point one way")
    trees = [(os.path.join(root, "src"), None), (os.path.join(root, "include", "h265direct"), "api")]
    files = 0
    for base, fixed in trees:
        for dirpath, _, names in os.walk(base):
            for name in sorted(names):
                if not name.endswith((".cpp", ".hpp", ".h", ".c")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                module = fixed or os.path.relpath(path, base).split(os.sep)[0]
                files += 1
                if module not in rule:
                    problems.append(f"{rel}: module {module} is not in the include rule")
                    continue
                with open(path, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = module_of_include(m.group(1))
                        if target != module and target not in rule[module]:
                            problems.append(f"{rel}:{n}: {module} may not include "
                                            f"\"{m.group(1)}\" ({target})")
    return files, problems


def self_test(root, rule):
    """The rule catches a capture -> convert include, naming its file and line."""
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("src/capture", "src/convert", "include/h265direct"):
            os.makedirs(os.path.join(tmp, d))
        with open(os.path.join(tmp, "src/convert/converter.hpp"), "w") as f:
            f.write("#pragma once\n")
        with open(os.path.join(tmp, "src/capture/bad.cpp"), "w") as f:
            f.write('#include <vector>\n\n#include "convert/converter.hpp"\n')
        _, problems = check(tmp, rule)
        expected = "src/capture/bad.cpp:3: capture may not include"
        if not any(p.startswith(expected) for p in problems):
            print(f"self-test: the rule did not report '{expected}...'; got {problems}")
            return 1
        print(f"self-test: caught {problems[0]}")
        return 0


def main(argv):
    selftest = "--self-test" in argv
    args = [a for a in argv if a != "--self-test"]
    if len(args) != 1:
        sys.exit(__doc__)
    root = args[0]
    rule = read_rule(os.path.join(root, "docs", "architecture.md"))
    if selftest:
        return self_test(root, rule)
    files, problems = check(root, rule)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) against the rule in docs/architecture.md")
        return 1
    if files == 0:
        print(f"{root}: no source files found")
        return 1
    print(f"{files} files, every include within the rule")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
