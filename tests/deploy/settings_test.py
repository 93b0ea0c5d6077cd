#!/usr/bin/env python3
"""Checks that every Argus setting the files in deploy/ give is one argus accepts.

deploy/ cannot be run here (no container engine, Kubernetes or systemd), so this catches
the drift that would otherwise only show on a real deployment: a renamed or removed flag
whose ARGUS_* variable a compose file, manifest, unit or env file still sets (argus would
silently ignore it). Names that are interpolated somewhere (${ARGUS_IMAGE:-...}) are the
deployment's own variables and are not checked.

usage: settings_test.py ARGUS_BINARY REPO_ROOT
"""
import pathlib
import re
import subprocess
import sys

# Where a variable is set: a YAML key, a Kubernetes env entry, NAME=value (env files,
# systemd Environment=, Dockerfile ENV).
SETTING = re.compile(r"(?:^|[\s#])(ARGUS_[A-Z0-9_]+)(?:=|:\s|:$)|name:\s*(ARGUS_[A-Z0-9_]+)",
                     re.MULTILINE)
COMMANDS = ["serve", "web", "worker", "scaler", "classify"]


def accepted(binary):
    names = set()
    for command in [[]] + [[c] for c in COMMANDS]:
        text = subprocess.run([binary, *command, "--help"], capture_output=True, text=True,
                              check=True).stdout
        names.update(re.findall(r"Env:(ARGUS_[A-Z0-9_]+)", text))
    return names


def main():
    binary, root = sys.argv[1], pathlib.Path(sys.argv[2])
    known = accepted(binary)
    files = [path for path in sorted((root / "deploy").rglob("*")) if path.is_file()]
    texts = {path: path.read_text(errors="replace") for path in files}
    # Variables interpolated anywhere (${ARGUS_IMAGE:-...}) are the deployment's own.
    interpolated = set(re.findall(r"\$\{(ARGUS_[A-Z0-9_]+)", "\n".join(texts.values())))
    if len(known) < 20:
        print(f"only {len(known)} ARGUS_* variables found in --help; is {binary} argus?")
        return 1
    checked, unknown = 0, []
    for path, text in texts.items():
        for match in SETTING.finditer(text):
            name = match.group(1) or match.group(2)
            if name in interpolated:
                continue
            checked += 1
            if name not in known:
                line = text.count("\n", 0, match.start()) + 1
                unknown.append(f"{path.relative_to(root)}:{line}: {name}")
    for entry in unknown:
        print(f"not an argus setting: {entry}")
    print(f"{checked} settings checked in deploy/, {len(unknown)} unknown")
    return 1 if unknown or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
