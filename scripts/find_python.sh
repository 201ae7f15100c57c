#!/usr/bin/env bash
# Prints the path of a Python interpreter of the version asked (e.g. 3.13), or nothing.
# Looks on PATH first, then in pyenv's versions (whose shims refuse a version that is not selected).
set -u
want=${1:?usage: find_python.sh 3.13}
works() { [ -x "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]; }
candidate=$(command -v "python$want" 2>/dev/null) && works "$candidate" && { echo "$candidate"; exit 0; }
root=${PYENV_ROOT:-$HOME/.pyenv}
for dir in $(ls -d "$root"/versions/"$want".* 2>/dev/null | sort -V -r); do
  works "$dir/bin/python" && { echo "$dir/bin/python"; exit 0; }
done
exit 0
