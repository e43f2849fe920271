#!/usr/bin/env bash
# Runs fluxvet for action.yml: findings in the chosen format on the log (GitHub annotations by
# default), a Markdown table in the job summary, and SARIF in a file when asked.
#   FV_PATHS      paths to check, separated by whitespace or newlines (default `.`)
#   FV_CONFIG     config file, or empty
#   FV_FORMAT     format printed to the log (default github)
#   FV_FAIL_ON    error | warning
#   FV_SARIF      file to write SARIF to, or empty
#   FV_SUMMARY    true | false: append the Markdown table to $GITHUB_STEP_SUMMARY
#   FV_CHANGED_SINCE  report only the findings introduced over this revision; `auto` (default):
#                 origin/$GITHUB_BASE_REF on a pull request, else every finding; empty: every finding
#   FV_BASELINE   a baseline file whose findings are not reported, or empty
#   FV_DIFF       true | false: also run `fluxvet diff` and add its Markdown to the summary
#   FV_DIFF_BASE  the revision diff compares with (default origin/$GITHUB_BASE_REF, else HEAD~1)
#   FV_DIFF_COMMENT true | false: post the diff as a pull-request comment (gh, GH_TOKEN, FV_PR_NUMBER)
#   FLUXVET       the binary (default: fluxvet on PATH)
set -uo pipefail

fluxvet=${FLUXVET:-fluxvet}
args=(check --color never)
if [ -n "${FV_CONFIG:-}" ]; then args+=(--config "$FV_CONFIG"); fi
case "${FV_FAIL_ON:-error}" in
  error) ;;
  warning) args+=(--deny-warnings) ;;
  *)
    echo "::error title=fluxvet::fail-on must be \`error\` or \`warning\`, not \`${FV_FAIL_ON}\`"
    exit 2
    ;;
esac
if [ -n "${FV_BASELINE:-}" ]; then args+=(--baseline "$FV_BASELINE"); fi
# Every line of a multi-line `paths: |` input, not only the first (read stops at a newline
# unless -d '' reads to the end; it then returns 1 at end of input, which is expected).
read -r -d '' -a paths <<< "${FV_PATHS:-.}" || true
if [ "${#paths[@]}" -eq 0 ]; then paths=(.); fi

since=${FV_CHANGED_SINCE-auto}
if [ "$since" = auto ]; then
  since=
  if [ -n "${GITHUB_BASE_REF:-}" ]; then since="origin/$GITHUB_BASE_REF"; fi
fi
if [ -n "$since" ]; then
  # Both trees are checked: the findings the change introduces are reported wherever they land
  # (a rename breaks the file that names it), the older ones only counted.
  if [ "${#paths[@]}" -ne 1 ]; then
    echo "::warning title=fluxvet::changed-since compares one directory; checking every finding of ${paths[*]}"
  elif ! git -C "${paths[0]}" rev-parse --verify -q "$since^{commit}" > /dev/null 2>&1; then
    echo "::warning title=fluxvet::cannot find $since (check out with actions/checkout fetch-depth: 0); reporting every finding"
  else
    args+=(--changed-since "$since")
  fi
fi

# A message as a workflow command's data: the runner decodes %25, %0D and %0A.
escape_data() {
  local s=$1
  s=${s//'%'/'%25'}
  s=${s//$'\r'/'%0D'}
  s=${s//$'\n'/'%0A'}
  printf '%s' "$s"
}

errors="${RUNNER_TEMP:-/tmp}/fluxvet-stderr.$$"
"$fluxvet" "${args[@]}" --format "${FV_FORMAT:-github}" "${paths[@]}" 2> "$errors"
status=$?
cat "$errors" >&2
# Exit 2 is a usage, config or I/O problem: fluxvet checked nothing, and its message would sit
# unseen in the log. Make it an annotation too.
if [ "$status" -eq 2 ]; then
  message=$(sed -e 's/^fluxvet: error: //' "$errors")
  echo "::error title=fluxvet::$(escape_data "${message:-fluxvet exited with status 2}")"
fi
rm -f "$errors"

# The extra reports describe the same run; their exit codes repeat the one above.
if [ "${FV_SUMMARY:-true}" = true ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  "$fluxvet" "${args[@]}" --format markdown "${paths[@]}" >> "$GITHUB_STEP_SUMMARY" 2>/dev/null
fi
if [ -n "${FV_SARIF:-}" ]; then
  mkdir -p "$(dirname "$FV_SARIF")"
  # Written beside the target and moved into place only when fluxvet produced a report, so a
  # failed run never leaves an empty or partial file for upload-sarif to choke on.
  "$fluxvet" "${args[@]}" --format sarif "${paths[@]}" > "$FV_SARIF.partial" 2>/dev/null
  sarif_status=$?
  if [ "$sarif_status" -ne 2 ] && [ -s "$FV_SARIF.partial" ]; then
    mv -f "$FV_SARIF.partial" "$FV_SARIF"
    echo "fluxvet: wrote SARIF to $FV_SARIF"
  else
    rm -f "$FV_SARIF.partial"
    echo "::error title=fluxvet::no SARIF written to $(escape_data "$FV_SARIF"): fluxvet could not check (exit $sarif_status)"
  fi
fi
if [ "${FV_DIFF:-false}" = true ]; then
  base=${FV_DIFF_BASE:-}
  if [ -z "$base" ]; then
    if [ -n "${GITHUB_BASE_REF:-}" ]; then base="origin/$GITHUB_BASE_REF"; else base="HEAD~1"; fi
  fi
  diff_md="${RUNNER_TEMP:-/tmp}/fluxvet-diff.md"
  diff_args=(diff --color never --base "$base" --format markdown)
  if [ -n "${FV_CONFIG:-}" ]; then diff_args+=(--config "$FV_CONFIG"); fi
  "$fluxvet" "${diff_args[@]}" "${paths[0]}" > "$diff_md"
  diff_status=$?
  if [ "$diff_status" -eq 2 ]; then
    echo "::warning title=fluxvet diff::could not compare with $base (fetch it with actions/checkout fetch-depth: 0)"
  else
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$diff_md" >> "$GITHUB_STEP_SUMMARY"; fi
    if [ "${FV_DIFF_COMMENT:-false}" = true ] && [ -n "${FV_PR_NUMBER:-}" ]; then
      gh pr comment "$FV_PR_NUMBER" --body-file "$diff_md" || echo "::warning title=fluxvet diff::could not post the comment"
    fi
    if [ "$diff_status" -gt "$status" ]; then status=$diff_status; fi
  fi
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "exit-code=$status" >> "$GITHUB_OUTPUT"; fi
exit "$status"
