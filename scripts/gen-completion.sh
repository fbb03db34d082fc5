#!/bin/sh
# Makes the bash completion of scitt from the binary's own --help, so it cannot drift from the
# binary: CMake runs this after every build of scitt. The commands are those listed under
# "commands:" in `scitt --help`; each command's options are the --words of `scitt COMMAND --help`
# (and of `scitt COMMAND SUB --help` for subcommands its usage lines name), less the lines that
# speak of another command ("see scitt verify --help", examples of scitt audit); an option
# written with an upper-case argument ("--out FILE") takes a value, completed as a file name.
#
#   scripts/gen-completion.sh SCITT > scitt.bash
set -eu
bin=$1
name=$(basename "$bin")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --help > "$tmp/help"
commands=$(sed -n '/^commands:$/,/^$/p' "$tmp/help" | awk '/^  [a-z]/ { print $1 }')
[ -n "$commands" ] || { echo "gen-completion: no commands in $bin --help" >&2; exit 2; }

# The lines of a command's help (file $1) about that command (words $2 [$3]): a line naming
# "scitt OTHER" (or "scitt COMMAND OTHERSUB") speaks of something else.
own_lines() {
    awk -v name="$name" -v cmd="$2" -v sub_="${3:-}" '{
        for (i = 1; i < NF; i++) {
            f = $i
            sub(/^[(`"]+/, "", f)
            if (f != name) continue
            w = $(i + 1)
            if (w !~ /^[a-z][a-z-]*$/) continue
            if (w != cmd) next
            if (sub_ != "" && $(i + 2) ~ /^[a-z][a-z-]*$/ && $(i + 2) != sub_) next
        }
        print
    }' "$1"
}
options() { own_lines "$@" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# Options followed by an argument in upper case: "--out FILE", "--alg ALG".
valued() {
    own_lines "$@" | grep -oE -- '--[a-z][a-z0-9-]*[ =][A-Z][A-Z0-9_./:-]*' | sed 's/[ =].*//' |
        sort -u | tr '\n' ' ' | sed 's/ $//'
}
# One case arm: "KEY") opts="..." valued=" ... " subs="...";
arm() {
    key=$1 file=$2 subs=$3
    shift 3
    printf '    "%s") opts="%s" valued=" %s " subs="%s" ;;\n' "$key" "$(options "$file" "$@")" \
        "$(valued "$file" "$@")" "$subs"
}

{
    cat <<HEAD
# bash completion for $name, made from \`$name --help\` by scripts/gen-completion.sh: do not edit.
_${name}_options()
{
    opts="" valued="" subs=""
    case "\$1" in
HEAD
    for cmd in $commands; do
        "$bin" "$cmd" --help > "$tmp/cmd"
        subs=$(awk -v name="$name" -v cmd="$cmd" '
            { w = ($1 == "usage:") ? 2 : 1 }
            (w == 2 || /^ /) && $w == name && $(w + 1) == cmd && $(w + 2) ~ /^[a-z][a-z-]*$/ {
                print $(w + 2)
            }' "$tmp/cmd" | sort -u | tr '\n' ' ' | sed 's/ $//')
        arm "$cmd" "$tmp/cmd" "$subs" "$cmd"
        for sub in $subs; do
            "$bin" "$cmd" "$sub" --help > "$tmp/sub"
            arm "$cmd $sub" "$tmp/sub" "" "$cmd" "$sub"
        done
    done
    cat <<TAIL
    esac
}

_${name}()
{
    local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]}
    local opts valued subs key
    COMPREPLY=()
    if [ "\$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=(\$(compgen -W "$(echo $commands) --help --version" -- "\$cur"))
        return 0
    fi
    key=\${COMP_WORDS[1]}
    _${name}_options "\$key"
    if [ -n "\$subs" ]; then
        if [ "\$COMP_CWORD" -eq 2 ]; then
            COMPREPLY=(\$(compgen -W "\$subs --help" -- "\$cur"))
            return 0
        fi
        key="\$key \${COMP_WORDS[2]}"
        _${name}_options "\$key"
    fi
    case "\$valued" in
    *" \$prev "*)
        compopt -o filenames 2>/dev/null
        COMPREPLY=(\$(compgen -f -- "\$cur"))
        return 0
        ;;
    esac
    if [[ "\$cur" == -* ]]; then
        COMPREPLY=(\$(compgen -W "\$opts --help" -- "\$cur"))
    else
        compopt -o filenames 2>/dev/null
        COMPREPLY=(\$(compgen -f -- "\$cur"))
    fi
    return 0
}
complete -F _${name} ${name}
TAIL
} > "$tmp/out"
cat "$tmp/out"
