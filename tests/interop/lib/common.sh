# Sourced by the entry points in bin/ with $home set to the install directory: reads lib/env.sh,
# which install.sh writes last, and picks the interpreters (SCITT_INTEROP_NODE and
# SCITT_INTEROP_PYTHON override the recorded ones).
if [ ! -f "$home/lib/env.sh" ]; then
    echo "the interop harness is not installed in $home (run tests/interop/install.sh $home)" >&2
    exit 2
fi
. "$home/lib/env.sh"
SCITT_INTEROP_NODE_RUN=${SCITT_INTEROP_NODE:-$SCITT_INTEROP_INSTALLED_NODE}
SCITT_INTEROP_PYTHON_RUN=${SCITT_INTEROP_PYTHON:-$SCITT_INTEROP_INSTALLED_PYTHON}
