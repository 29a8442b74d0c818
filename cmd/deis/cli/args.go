package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
)

// exactArgs, rangeArgs and minArgs check the number of positional
// arguments and answer a usage error.
func exactArgs(n int) cobra.PositionalArgs { return rangeArgs(n, n) }

func minArgs(n int) cobra.PositionalArgs { return rangeArgs(n, -1) }

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || (hi >= 0 && len(args) > hi) {
			return usageError{fmt.Sprintf("wrong number of arguments: usage: %s", cmd.UseLine())}
		}
		return nil
	}
}

// splitKV splits KEY=VALUE on the first '=' only: the value keeps any
// later '=', spaces, quotes and newlines as given.
func splitKV(arg string) (key, value string, err error) {
	key, value, ok := strings.Cut(arg, "=")
	if !ok || key == "" {
		return "", "", usageError{fmt.Sprintf("%q is not KEY=VALUE", arg)}
	}
	return key, value, nil
}

// parseConfigArgs parses config:set arguments into the values to send,
// checking every key is an environment variable name.
func parseConfigArgs(args []string) (map[string]*string, error) {
	values := make(map[string]*string, len(args))
	for _, arg := range args {
		k, v, err := splitKV(arg)
		if err != nil {
			return nil, err
		}
		if !deis.ValidEnvName(k) {
			return nil, usageError{fmt.Sprintf("%q is not a valid config key: use letters, digits and '_', not starting with a digit", k)}
		}
		values[k] = &v
	}
	return values, nil
}

// parseUnsetArgs parses config:unset arguments: keys whose values become
// null.
func parseUnsetArgs(keys []string) (map[string]*string, error) {
	values := make(map[string]*string, len(keys))
	for _, k := range keys {
		if !deis.ValidEnvName(k) {
			return nil, usageError{fmt.Sprintf("%q is not a valid config key", k)}
		}
		values[k] = nil
	}
	return values, nil
}

// parseKVFlags parses repeated --flag K=V values (credentials, params).
func parseKVFlags(flag string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(list))
	for _, arg := range list {
		k, v, err := splitKV(arg)
		if err != nil {
			return nil, usageError{fmt.Sprintf("--%s %q is not KEY=VALUE", flag, arg)}
		}
		out[k] = v
	}
	return out, nil
}

// parseCounts parses TYPE=N arguments (process types or layers) into
// counts, rejecting negative, malformed and repeated entries.
func parseCounts(args []string) (map[string]int, error) {
	counts := make(map[string]int, len(args))
	for _, arg := range args {
		name, num, ok := strings.Cut(arg, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t\n") {
			return nil, usageError{fmt.Sprintf("%q is not TYPE=N", arg)}
		}
		n, err := strconv.Atoi(num)
		if err != nil || strings.HasPrefix(num, "+") {
			return nil, usageError{fmt.Sprintf("%q: the count must be a whole number", arg)}
		}
		if n < 0 {
			return nil, usageError{fmt.Sprintf("%q: the count cannot be negative", arg)}
		}
		if _, dup := counts[name]; dup {
			return nil, usageError{fmt.Sprintf("%q is given twice", name)}
		}
		counts[name] = n
	}
	return counts, nil
}

// parseVersion reads a release version written "v2" or "2".
func parseVersion(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V"))
	if err != nil || n < 1 || strings.HasPrefix(s, "+") {
		return 0, usageError{fmt.Sprintf("%q is not a release version (v1, v2, ...)", s)}
	}
	return n, nil
}

// parseYesNo reads a y|n flag value.
func parseYesNo(flag, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "y", "yes", "true", "1":
		return true, nil
	case "n", "no", "false", "0":
		return false, nil
	}
	return false, usageError{fmt.Sprintf("--%s %q: want y or n", flag, s)}
}

// formatCounts prints {"web": 2, "worker": 1} as "web=2 worker=1".
func formatCounts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// multiFlag gathers the values of a repeatable flag written the contract's
// way, "--creds K=V K=V ...": pflag takes only the first value, and the
// later ones arrive as positional arguments. Those are told from ids by
// their '=' (ids never hold one), so positional args are split into plain
// ones and the K=V ones that belong to the flag.
func multiFlag(cmd *cobra.Command, flag string, values, args []string) (plain, all []string, err error) {
	var extra []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			extra = append(extra, a)
		} else {
			plain = append(plain, a)
		}
	}
	if len(extra) > 0 && !cmd.Flags().Changed(flag) {
		return nil, nil, usageError{fmt.Sprintf("unexpected %q: put K=V values after --%s", extra[0], flag)}
	}
	return plain, append(append([]string{}, values...), extra...), nil
}
