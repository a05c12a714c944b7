// `kubectl flink completion bash|zsh`: a completion script for the `kubectl-flink` command — its verbs, its flags,
// and resource names asked of the cluster (`kubectl-flink list -o name`) as the user types.
export const VERBS = [
  'list',
  'ls',
  'status',
  'autoscaler',
  'suspend',
  'resume',
  'restart',
  'rollback',
  'savepoint',
  'completion',
  'version',
] as const;
const FLAGS = [
  '-n',
  '--namespace',
  '-A',
  '--all-namespaces',
  '--context',
  '--kubeconfig',
  '-o',
  '--output',
  '-w',
  '--watch',
  '--yes',
  '--wait',
  '--timeout',
  '-h',
  '--help',
];
const NAMED = ['status', 'autoscaler', 'suspend', 'resume', 'restart', 'rollback', 'savepoint'];

export function completionScript(shell: 'bash' | 'zsh'): string {
  const bash = `# kubectl-flink completion (bash): source <(kubectl flink completion bash)
_kubectl_flink() {
  local cur prev verb
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  verb="\${COMP_WORDS[1]}"
  case "$prev" in
    -o|--output) COMPREPLY=( $(compgen -W "table wide json yaml name" -- "$cur") ); return ;;
    -n|--namespace|--context|--kubeconfig|--timeout) COMPREPLY=(); return ;;
  esac
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${VERBS.join(' ')}" -- "$cur") )
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "${FLAGS.join(' ')}" -- "$cur") )
  elif [[ " ${NAMED.join(' ')} " == *" $verb "* ]]; then
    COMPREPLY=( $(compgen -W "$(kubectl-flink list -o name 2>/dev/null | sed 's|.*/||')" -- "$cur") )
  elif [[ "$verb" == completion ]]; then
    COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") )
  fi
}
complete -F _kubectl_flink kubectl-flink
`;
  return shell === 'bash'
    ? bash
    : `# kubectl-flink completion (zsh): source <(kubectl flink completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
