// The completion scripts `baton completion bash|zsh|fish` prints. Each asks baton itself at
// every <TAB> (`baton __complete <shell> -- <words>`), so commands, options, workspace ids and
// job names are those of the installed baton, its settings and its workspace. The protocol:
// the first line is `files` (let the shell complete file names) or `values`; each further
// line is a value, then a tab and its description when there is one. A failing baton (or
// none on PATH) completes nothing and prints nothing: the shell stays quiet.

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell): string {
  return SCRIPTS[shell];
}

const BASH = `# bash completion for baton. Load it in ~/.bashrc with:
#   source <(baton completion bash)
_baton_completion() {
  local current=\${COMP_WORDS[COMP_CWORD]} output directive line
  output=$(baton __complete bash -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  directive=\${output%%$'\\n'*}
  COMPREPLY=()
  if [[ $directive == files ]]; then
    compopt -o filenames 2>/dev/null
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$current")
    return 0
  fi
  [[ $output == *$'\\n'* ]] || return 0
  while IFS= read -r line; do
    COMPREPLY+=("\${line%%$'\\t'*}")
  done <<< "\${output#*$'\\n'}"
  # A task id (\`train/\`) is completed further, not followed by a space.
  if [[ \${#COMPREPLY[@]} -gt 0 && \${COMPREPLY[0]} == */ ]]; then compopt -o nospace 2>/dev/null; fi
  return 0
}
complete -F _baton_completion baton
`;

const ZSH = `#compdef baton
# zsh completion for baton. Load it in ~/.zshrc (after compinit) with:
#   source <(baton completion zsh)
_baton() {
  local output directive line
  local -a values partial
  output=$(baton __complete zsh -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  directive=\${output%%$'\\n'*}
  if [[ $directive == files ]]; then
    _files
    return
  fi
  [[ $output == *$'\\n'* ]] || return 1
  for line in "\${(@f)\${output#*$'\\n'}}"; do
    # _describe reads value:description; a colon in the value is escaped.
    line=\${line//:/\\\\:}
    line=\${line/$'\\t'/:}
    if [[ \${line%%:*} == */ ]]; then partial+=("$line"); else values+=("$line"); fi
  done
  (( \${#values} )) && _describe -t values 'baton' values
  (( \${#partial} )) && _describe -t tasks 'task' partial -S ''
  return 0
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _baton "$@"
else
  compdef _baton baton
fi
`;

const FISH = `# fish completion for baton. Load it with:
#   baton completion fish > ~/.config/fish/completions/baton.fish
function __baton_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l output (baton __complete fish -- $words (commandline -ct) 2>/dev/null)
    or return
    if test "$output[1]" = files
        __fish_complete_path (commandline -ct)
        return
    end
    for line in $output[2..-1]
        echo $line
    end
end
complete -c baton -f -a '(__baton_complete)'
`;

const SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };
