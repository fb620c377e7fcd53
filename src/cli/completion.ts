/**
 * Shell completion scripts generated from the command tree (commander has none built in), so
 * they never fall behind the commands. Pure: a tree in, a script out. Run uids and job names are
 * completed by asking the server (`chainr runs list`, `chainr runs get`), quietly nothing when it
 * cannot be reached.
 */
import type { Command } from 'commander';

type ValueKind =
  { kind: 'none' } | { kind: 'free' } | { kind: 'file' } | { kind: 'words'; words: string[] };

/** A positional argument: fixed choices, a run uid, a job of that run, or anything. */
type ArgKind =
  { kind: 'words'; words: string[] } | { kind: 'uid' } | { kind: 'job' } | { kind: 'free' };

export interface CompletionNode {
  /** `chainr runs list` */
  path: string;
  description: string;
  subcommands: { name: string; aliases: string[]; description: string }[];
  options: { flags: string[]; description: string; value: ValueKind }[];
  args: ArgKind[];
}

function argKind(arg: Command['registeredArguments'][number]): ArgKind {
  if (arg.argChoices) return { kind: 'words', words: arg.argChoices };
  if (arg.name() === 'uid') return { kind: 'uid' };
  if (arg.name() === 'job') return { kind: 'job' };
  return { kind: 'free' };
}

/** Every command of the tree with what can follow it. */
export function completionTree(program: Command): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const visit = (cmd: Command, path: string) => {
    const help = cmd.createHelp();
    nodes.push({
      path,
      description: cmd.description(),
      subcommands: help.visibleCommands(cmd).map((s) => ({
        name: s.name(),
        aliases: s.aliases(),
        description: s.description(),
      })),
      options: help.visibleOptions(cmd).map((o) => ({
        flags: [o.short, o.long].filter((f): f is string => f !== undefined),
        description: o.description,
        value: o.argChoices
          ? { kind: 'words', words: o.argChoices }
          : o.long === '--file'
            ? { kind: 'file' }
            : o.required || o.optional
              ? { kind: 'free' }
              : { kind: 'none' },
      })),
      args: cmd.registeredArguments.map(argKind),
    });
    for (const sub of cmd.commands) visit(sub, `${path} ${sub.name()}`);
  };
  visit(program, program.name());
  return nodes;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell code, common to bash and zsh, that reads the words before the cursor: the command
 * they name (`cmd`), the positional arguments so far (`npos`, the first in `uid`), and the
 * server they name (`server`). `word N` is the shell's expression of the Nth word.
 */
function scanWords(nodes: CompletionNode[], word: (index: string) => string, from: number): string {
  const valueFlags = [
    ...new Set(
      nodes.flatMap((n) =>
        n.options.filter((o) => o.value.kind !== 'none').flatMap((o) => o.flags),
      ),
    ),
  ].filter((f) => f !== '-s' && f !== '--server');
  const moves = nodes.flatMap((n) =>
    n.subcommands.flatMap((s) =>
      [s.name, ...s.aliases].map(
        (w) => `      ${quote(`${n.path} ${w}`)}) cmd=${quote(`${n.path} ${s.name}`)} ;;`,
      ),
    ),
  );
  return `  for ((i = ${from}; i < last; i++)); do
    w=${word('i')}
    case "$w" in
      -s|--server) server=${word('i + 1')}; i=$((i + 1)); continue ;;
      --server=*) server="\${w#--server=}"; continue ;;
      ${valueFlags.join('|')}) i=$((i + 1)); continue ;;
      -*) continue ;;
    esac
    case "$cmd $w" in
${moves.join('\n')}
      *) npos=$((npos + 1)); [[ $npos == 1 ]] && uid="$w" ;;
    esac
  done`;
}

/** Cases on "$cmd $prev": what an option's value can be. */
function valueCases(nodes: CompletionNode[], body: (v: ValueKind) => string): string {
  const out: string[] = [];
  for (const n of nodes) {
    for (const o of n.options) {
      if (o.value.kind === 'none') continue;
      out.push(`    ${o.flags.map((f) => quote(`${n.path} ${f}`)).join('|')}) ${body(o.value)} ;;`);
    }
  }
  return out.join('\n');
}

/** Cases on "$cmd $npos": the kind of positional argument at the cursor. */
function argCases(nodes: CompletionNode[]): string {
  return nodes
    .flatMap((n) =>
      n.args.map((a, i) => {
        const value = a.kind === 'words' ? `words:${a.words.join(' ')}` : a.kind;
        return `    ${quote(`${n.path} ${i}`)}) arg=${quote(value)} ;;`;
      }),
    )
    .join('\n');
}

function helpers(name: string, fn: string, program0: string): string {
  return `${fn}_server() { [[ -n $server ]] && printf '%s\\n' --server "$server"; }
${fn}_uids() {
  ${program0} runs list --limit 30 $(${fn}_server) 2>/dev/null | awk 'NR > 1 { print $1 }'
}
${fn}_jobs() {
  ${program0} runs get "$uid" $(${fn}_server) 2>/dev/null | awk '$1 == "JOB" { t = 1; next } t { print $2 }'
}`;
}

export function bashCompletion(program: Command): string {
  const nodes = completionTree(program);
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const values = valueCases(nodes, (v) =>
    v.kind === 'file'
      ? 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return'
      : v.kind === 'words'
        ? `COMPREPLY=($(compgen -W ${quote(v.words.join(' '))} -- "$cur")); return`
        : 'return',
  );
  const lists = nodes.map(
    (n) =>
      `    ${quote(n.path)}) subs=${quote(n.subcommands.map((s) => s.name).join(' '))}; opts=${quote(n.options.flatMap((o) => o.flags).join(' '))} ;;`,
  );
  return `# ${name} completion for bash. Load it in this shell with:
#   source <(${name} completion bash)
# or for every new shell: ${name} completion bash > ~/.local/share/bash-completion/completions/${name}
${helpers(name, fn, '"${COMP_WORDS[0]}"')}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" last=$COMP_CWORD
  local cmd=${quote(name)} server="" uid="" npos=0 i w subs="" opts="" arg="" words=""
${scanWords(nodes, (i) => `"\${COMP_WORDS[${i}]}"`, 1)}
  case "$cmd $prev" in
${values}
  esac
  case "$cmd" in
${lists.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    words=$opts
  else
    case "$cmd $npos" in
${argCases(nodes)}
    esac
    case "$arg" in
      words:*) words="\${arg#words:}" ;;
      uid) words="$(${fn}_uids)" ;;
      job) words="$(${fn}_jobs)" ;;
    esac
    words="$subs $words"
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F ${fn} ${name}
`;
}

/** `name:description` for zsh's _describe, with colons in the name escaped. */
const described = (word: string, description: string) =>
  quote(`${word.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ')}`);

export function zshCompletion(program: Command): string {
  const nodes = completionTree(program);
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const values = valueCases(nodes, (v) =>
    v.kind === 'file'
      ? '_files; return'
      : v.kind === 'words'
        ? `compadd -- ${v.words.join(' ')}; return`
        : 'return',
  );
  const lists = nodes.map((n) => {
    const subs = n.subcommands.map((s) => described(s.name, s.description));
    const opts = n.options.flatMap((o) => o.flags.map((f) => described(f, o.description)));
    return `    ${quote(n.path)}) subs=(${subs.join(' ')}); opts=(${opts.join(' ')}) ;;`;
  });
  return `#compdef ${name}
# ${name} completion for zsh. Load it in this shell with:
#   source <(${name} completion zsh)
# or for every new shell: ${name} completion zsh > "\${fpath[1]}/_${name}"
${helpers(name, fn, '"${words[1]}"')}
${fn}() {
  local cmd=${quote(name)} prev="\${words[CURRENT-1]}" last=$CURRENT
  local server="" uid="" npos=0 i w arg=""
  local -a subs opts
${scanWords(nodes, (i) => `"\${words[${i}]}"`, 2)}
  case "$cmd $prev" in
${values}
  esac
  case "$cmd" in
${lists.join('\n')}
  esac
  if [[ $PREFIX == -* ]]; then
    _describe -t options option opts
    return
  fi
  (( \${#subs} )) && _describe -t commands command subs
  case "$cmd $npos" in
${argCases(nodes)}
  esac
  case "$arg" in
    words:*) compadd -- \${=arg#words:} ;;
    uid) compadd -- $(${fn}_uids) ;;
    job) compadd -- $(${fn}_jobs) ;;
  esac
}
# sourced, this registers the function; autoloaded from fpath, it also runs it
compdef ${fn} ${name}
if [ "$funcstack[1]" = "${fn}" ]; then
  ${fn} "$@"
fi
`;
}
