# help2roff.awk: turns a --help text into man(7) source, so that a man page made from it says
# exactly what the binary says. Used by gen-man.sh.
#   -v top=1 -v heading=H   the usage block (less "usage: ") becomes .SH SYNOPSIS, the rest goes
#                           under .SH H
#   -v top=0                the usage block is set as preformatted text (a subcommand's .SS)
# The help's shapes: a "usage:" block (up to the first blank line), filled text at column 0,
# option items ("  --opt ARG   what it does", continuation lines indented deeper), and any other
# indented line (examples, tables, lists) kept as preformatted text.
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.']/) {
        s = "\\&" s
    }
    return s
}
function indent(s) {
    match(s, /^ */)
    return RLENGTH
}
function close_block() {
    if (mode == "nf" || mode == "usage") {
        print ".fi"
    }
    if (mode == "opt") {
        print ".PP"
    }
    if (mode == "usage" && top) {
        print ".SH " heading
        para = 0
    }
    mode = ""
}
BEGIN { mode = ""; para = 0 }
{
    sub(/\r$/, "")
    line = $0
}
line ~ /^[ \t]*$/ {
    if (mode == "usage" || mode == "nf" || mode == "opt") {
        close_block()
    }
    para = 1
    next
}
line ~ /^usage: / {
    close_block()
    if (top) {
        print ".SH SYNOPSIS"
    } else {
        print ".PP"
    }
    print ".nf"
    if (top) {
        sub(/^usage: /, "", line)
    }
    print esc(line)
    mode = "usage"
    next
}
mode == "usage" {
    if (top) {
        sub(/^       /, "", line)
    }
    print esc(line)
    next
}
line ~ /^ +--?[A-Za-z0-9]/ {
    close_block()
    optindent = indent(line)
    rest = substr(line, optindent + 1)
    if (match(rest, /   */)) {
        term = substr(rest, 1, RSTART - 1)
        desc = substr(rest, RSTART + RLENGTH)
    } else {
        term = rest
        desc = ""
    }
    print ".TP"
    print "\\fB" esc(term) "\\fR"
    if (desc != "") {
        print esc(desc)
    }
    mode = "opt"
    para = 0
    next
}
mode == "opt" && indent(line) > optindent {
    sub(/^ +/, "", line)
    print esc(line)
    next
}
line ~ /^ / {
    if (mode != "nf") {
        close_block()
        print ".PP"
        print ".nf"
        mode = "nf"
    }
    print esc(line)
    para = 0
    next
}
{
    if (mode != "") {
        close_block()
        para = 1
    }
    if (para) {
        print ".PP"
        para = 0
    }
    print esc(line)
}
END { close_block() }
