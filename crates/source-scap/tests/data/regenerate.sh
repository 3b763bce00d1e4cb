#!/usr/bin/env bash
# Regenerates the sysdig oracles from the conformance captures. Run from this
# folder with Debian's sysdig 0.29 installed; commit the results. The tests
# also re-run sysdig (when installed) to confirm these files still hold.
#   NAME.expected      sysdig -r FILE -p '*%evt.num %evt.type %evt.dir %thread.tid'
#   NAME.lines.gz      TZ=UTC sysdig -r FILE   (default lines), gzip-compressed
set -euo pipefail
conf=${PEREGRINE_CONFORMANCE:-../../../../../shared/conformance}
for f in "$conf"/falco-regression/trace_files/*.scap "$conf"/scap/*.scap "$conf"/scap/*/*.scap; do
  rel=${f#"$conf"/}
  # sysdig 0.29 cannot read this one; the tests hold it to curl_google's oracle.
  [[ $rel == scap/curl_google_comments.scap ]] && continue
  name=$(echo "${rel%.scap}" | sed 's#/#__#g')
  TZ=UTC sysdig -r "$f" -p '*%evt.num %evt.type %evt.dir %thread.tid' > "$name.expected" 2>/dev/null || true
  TZ=UTC sysdig -r "$f" 2>/dev/null | gzip -9n > "$name.lines.gz" || true
done
