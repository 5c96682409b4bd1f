# p3cfg.bash — bash completion of the p3cfg command line (installed as
# share/bash-completion/completions/p3cfg). Subcommands, their options (from each
# command's --help, so that new options complete without editing this file), the values
# of enumerated options, and file names elsewhere.

_p3cfg_options() # COMMAND: the long and short options its --help lists
{
    p3cfg "$1" --help 2>/dev/null |
        sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z0-9-]*\).*/\1\2/p' |
        tr ',' '\n' | tr -d ' '
}

_p3cfg()
{
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "search estimate replan export validate import-hf profile replay help --help --version" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    case "$prev" in
        --format) COMPREPLY=($(compgen -W "table json" -- "$cur")); return ;;
        --recompute) COMPREPLY=($(compgen -W "none selective full" -- "$cur")); return ;;
        --zero) COMPREPLY=($(compgen -W "0 1 2 3" -- "$cur")); return ;;
        --overlap) COMPREPLY=($(compgen -W "none grad param tp grad,param grad,param,tp" -- "$cur")); return ;;
        --to) COMPREPLY=($(compgen -W "megatron torchtitan deepspeed rankfile hostfile" -- "$cur")); return ;;
        -k|--kind) COMPREPLY=($(compgen -W "model cluster auto" -- "$cur")); return ;;
        --granularity) COMPREPLY=($(compgen -W "gpu node auto" -- "$cur")); return ;;
        --backend) COMPREPLY=($(compgen -W "mpi nccl" -- "$cur")); return ;;
        -o|--output|--svg-timeline|--svg-links|--svg-memory|--base|--model|--cluster)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --exclude) [[ "$cur" == @* ]] && COMPREPLY=($(compgen -P @ -f -- "${cur#@}")); return ;;
        --dp|--tp|--pp|--mbs|--vpp|--gpus|--global-batch|--top|--threads|--max-mbs|--plan|\
        --seed|--place-top|--place-budget|--stage-layers|--gpu|--name|--budget|--timeout|\
        --reps|--latency-reps|--warmup|--window|--min-size|--max-size|--scale|--iterations|\
        --mem-margin|--tokens)
            return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(_p3cfg_options "$cmd")" -- "$cur"))
        return
    fi
    case "$cmd" in
        export|replay|replan) COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur")) ;;
        *) COMPREPLY=($(compgen -f -X '!*.@(yaml|yml|json)' -- "$cur") $(compgen -d -- "$cur")) ;;
    esac
}
complete -F _p3cfg p3cfg
