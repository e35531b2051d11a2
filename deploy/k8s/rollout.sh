#!/usr/bin/env bash
# Rolls a Tramline instance out to the current kubectl context, migrations first:
#   deploy/k8s/rollout.sh OVERLAY IMAGE            e.g. deploy/k8s/rollout.sh deploy/k8s/overlays/shared ghcr.io/tramline/tramline:0.2.0
# 1. renders the overlay with the release's image (one image, every role);
# 2. applies what the migration Job needs (the Namespace if missing, ServiceAccounts, ConfigMaps, NetworkPolicies);
# 3. replaces the migration Job and waits for it to complete: a failed migration stops here, with
#    the old pods still serving (migrations are expand/contract, so the old code runs on the new schema);
# 4. applies everything else and waits for each Deployment's rolling update (maxUnavailable 0).
# With Argo CD instead, the Job's PreSync hook annotation gives the same order.
# KUBECTL (default kubectl) talks to the cluster; rendering uses `kubectl kustomize` on this machine.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 OVERLAY IMAGE[:TAG|@DIGEST]" >&2
  exit 2
fi
overlay="$(cd "$1" && pwd)"
image="$2"
kubectl_cmd="${KUBECTL:-kubectl}"
timeout="${ROLLOUT_TIMEOUT:-600s}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The image override as a kustomization on top of the overlay (no `kustomize edit`, no sed on YAML).
case "$image" in
  *@sha256:*) image_fields="  newName: ${image%@*}
  digest: ${image#*@}" ;;
  *:*) image_fields="  newName: ${image%:*}
  newTag: ${image##*:}" ;;
  *) echo "IMAGE must carry a tag or a digest: $image" >&2; exit 2 ;;
esac
# kustomize takes relative paths only.
cat >"$work/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$work" "$overlay")
images:
- name: ghcr.io/tramline/tramline
$image_fields
YAML
kubectl kustomize "$work" >"$work/all.yaml"

# Documents of the rendered stream whose kind is (or, with -v, is not) in a comma-separated list.
select_kinds() {
  awk -v want="$1" -v invert="${2:-0}" '
    BEGIN { n = split(want, k, ","); for (i = 1; i <= n; i++) w[k[i]] = 1 }
    function flush() { if (doc != "" && ((kind in w) != invert)) printf "---\n%s", doc; doc = ""; kind = "" }
    /^---$/ { flush(); next }
    { doc = doc $0 "\n" }
    /^kind: / { kind = $2 }
    END { flush() }
  ' "$work/all.yaml"
}

namespace="$(awk '/^kind: Namespace$/ { ns = 1 } ns && /^  name: / { print $2; exit }' "$work/all.yaml")"
[ -n "$namespace" ] || { echo "the overlay renders no Namespace" >&2; exit 1; }

# The namespace is created once (by a cluster administrator, or here when the caller may): the CI
# deploy role is limited to the Tramline namespaces and cannot change cluster-scoped objects.
if ! $kubectl_cmd get namespace "$namespace" >/dev/null 2>&1; then
  echo "==> namespace $namespace"
  select_kinds Namespace >"$work/namespace.yaml"
  $kubectl_cmd apply --server-side -f "$work/namespace.yaml"
fi

echo "==> prerequisites of the migration ($namespace)"
select_kinds ServiceAccount,ConfigMap,NetworkPolicy >"$work/pre.yaml"
$kubectl_cmd apply --server-side -f "$work/pre.yaml"

echo "==> migration Job"
select_kinds Job >"$work/job.yaml"
$kubectl_cmd -n "$namespace" delete job tramline-migrate --ignore-not-found --wait=true
$kubectl_cmd apply --server-side -f "$work/job.yaml"
if ! $kubectl_cmd -n "$namespace" wait --for=condition=complete job/tramline-migrate --timeout="$timeout"; then
  echo "migration failed or timed out: the rollout stops here, the running version keeps serving" >&2
  $kubectl_cmd -n "$namespace" logs job/tramline-migrate --tail=100 >&2 || true
  exit 1
fi

echo "==> workloads"
select_kinds Job,Namespace 1 >"$work/rest.yaml"
$kubectl_cmd apply --server-side -f "$work/rest.yaml"
for d in tramline-api tramline-worker tramline-scheduler; do
  $kubectl_cmd -n "$namespace" rollout status "deployment/$d" --timeout="$timeout"
done
echo "==> rolled out $image to $namespace"
