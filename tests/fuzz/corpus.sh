#!/usr/bin/env bash
# Seeds the libFuzzer corpora under build/fuzz/corpus/<target>/ from the
# tree's own data: the datasets' schemas (plain, as POST bodies, nested
# deeper and deeper, in pairs for compatibility), the example
# configurations (each behind its table's selector byte, see
# fuzz_config.c), sharebus-sample's change lines when it is built, and
# registration requests of every dataset schema.  The small hand-written
# seeds in tests/fuzz/corpus/<target>/ are copied too; a corpus folder
# that already exists keeps what earlier runs found.
# Usage: tests/fuzz/corpus.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/fuzz/corpus}

for d in tests/fuzz/corpus/*/; do
  t=$(basename "$d")
  mkdir -p "$out/$t"
  cp -n "$d"* "$out/$t/" 2>/dev/null || true
done
mkdir -p "$out/config" "$out/schema" "$out/change_line" "$out/registry_http"

# config: the selector byte (fuzz_config.c's table order), then the file.
put_config() { { printf '%b' "\\x$1"; cat "$2"; } >"$out/config/$(basename "$2")"; }
put_config 00 producers/examples/producer.conf
put_config 01 consumers/examples/subscriber.conf
put_config 02 consumers/examples/lag.conf
put_config 03 schemas/registry/examples/registry.conf
put_config 04 broker-config/topics.conf

# schema: every dataset schema as text and as a registration body, each
# row schema paired with the next one (compatibility both ways).
json_string() { # a file's text as a JSON string (the schemas hold no control characters but tabs)
  printf '"%s"' "$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' "$1" | awk '{ printf "%s\\n", $0 }')"
}
rows=(schemas/datasets/*.row.avsc)
for f in schemas/datasets/*.avsc; do
  n=$(basename "$f" .avsc)
  cp "$f" "$out/schema/$n"
  printf '{"schema":%s}' "$(json_string "$f")" >"$out/schema/$n.body"
done
for i in "${!rows[@]}"; do
  next=${rows[$(((i + 1) % ${#rows[@]}))]}
  { cat "${rows[$i]}"; printf '\n--\n'; cat "$next"; } >"$out/schema/pair-$i"
done
# Nesting around the bound (SB_SCHEMA_MAX_DEPTH = 64) and far beyond it.
nest() { # nest KIND DEPTH: records, arrays or unions DEPTH levels deep
  local kind=$1 depth=$2 open="" close="" i
  for ((i = 0; i < depth; i++)); do
    case $kind in
      record) open+="{\"type\":\"record\",\"name\":\"R$i\",\"fields\":[{\"name\":\"f\",\"type\":"; close="}]}$close" ;;
      array) open+='{"type":"array","items":'; close="}$close" ;;
      union) open+='["null",'; close="]$close" ;;
    esac
  done
  printf '%s"int"%s' "$open" "$close"
}
for kind in record array union; do
  for depth in 8 63 64 65 200 600; do
    nest "$kind" "$depth" >"$out/schema/nested-$kind-$depth"
  done
done
nest union 3000 >"$out/schema/nested-union-3000" # past jansson's own bound (2048)

# change_line: sample events of every dataset, when sharebus-sample is built.
if [[ -x build/bin/sharebus-sample ]]; then
  for ds in market.business_license civil.resident tax.taxpayer; do
    i=0
    while IFS= read -r line; do
      printf '%s' "$line" >"$out/change_line/$ds-$i"
      i=$((i + 1))
    done < <(build/bin/sharebus-sample --dataset "$ds" --count 8 --keys 4)
  done
fi

# registry_http: every dataset schema registered, looked up, tested.
for f in schemas/datasets/*.avsc; do
  n=$(basename "$f" .avsc)
  n=${n%.*}-${n##*.} # TopicNameStrategy: civil.resident-key
  body=$(printf '{"schema":%s}' "$(json_string "$f")")
  printf 'POST /subjects/%s/versions\nContent-Type: application/vnd.schemaregistry.v1+json\n\n%s\n%%%%\nPOST /subjects/%s\n\n%s\n%%%%\nPOST /compatibility/subjects/%s/versions?verbose=true\n\n%s\n%%%%\nGET /subjects/%s/metadata\n' \
    "$n" "$body" "$n" "$body" "$n" "$body" "$n" >"$out/registry_http/$n"
done
echo "corpus: $(find "$out" -type f | wc -l) seeds in $out"
