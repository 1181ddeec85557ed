# options.sh: the options (and helpers) the bench scripts share; sourced, not run.
#
# Set the defaults first: `rounds`, `seconds`, and `markdown` only in a script that accepts
# --markdown; then `parse_bench_options "$@"`. Anything else is a usage error (exit 64), with
# `usage` (the script's synopsis after its name) as the message.
parse_bench_options() {
  while (($#)); do
    case "$1" in
      --rounds) rounds=$2; shift 2 ;;
      --seconds) seconds=$2; shift 2 ;;
      --markdown)
        [[ -n ${markdown+set} ]] || bench_usage
        markdown=1
        shift
        ;;
      *) bench_usage ;;
    esac
  done
}

bench_usage() {
  echo "usage: $0 $usage" >&2
  exit 64
}

# The median of the numbers on stdin, separated by spaces or newlines (the lower one of an
# even count).
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
