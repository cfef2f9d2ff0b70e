#!/usr/bin/env bash
# Starts the test control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok (one fake node), with client-certificate auth and a kubeconfig.
#   cluster/up.sh RUN_DIR     start; RUN_DIR/kubeconfig is ready when this returns
#   cluster/down.sh RUN_DIR   stop
# Binaries come from cluster/build.sh's cache folder (AUTOSTACK_CLUSTER_BIN overrides it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
run="${1:?usage: cluster/up.sh RUN_DIR}"
bin="${AUTOSTACK_CLUSTER_BIN:-$("$here/build.sh" --print)}"
for t in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
  [[ -x "$bin/$t" ]] || { echo "cluster/up.sh: $bin/$t is missing; run cluster/build.sh" >&2; exit 3; }
done
mkdir -p "$run/pki" "$run/logs"
: >"$run/pids"

# four distinct free ports, held until all are chosen; within TEST_PORT_RANGE (`22000-22999`) when
# set, as the test suite's own (tests/servers.py), for a machine shared by several runs
read -r etcd_port peer_port api_port kwok_port < <(python3 - <<'PY'
import contextlib, os, random, socket
low, high = (int(n) for n in os.environ.get("TEST_PORT_RANGE", "0-0").partition("-")[::2])
candidates = random.sample(range(low, high + 1), high - low + 1) if low else [0] * 4
with contextlib.ExitStack() as stack:
    held = []
    while len(held) < 4:
        if not candidates:
            raise SystemExit(f"no 4 free ports in TEST_PORT_RANGE={low}-{high}")
        sock = stack.enter_context(socket.socket())
        try:
            sock.bind(("127.0.0.1", candidates.pop()))
        except OSError:
            continue
        held.append(sock)
    print(*(sock.getsockname()[1] for sock in held))
PY
)

# A throw-away CA signs the API server's serving certificate and the admin client certificate.
pki="$run/pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=autostack-test-ca" \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
issue() { # name subject [san]
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    ${3:+-extfile <(printf 'subjectAltName=%s' "$3")} -out "$pki/$1.crt" 2>/dev/null
}
issue apiserver "/CN=kube-apiserver" "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"
issue admin "/O=system:masters/CN=autostack-test-admin"
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null

cat >"$run/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:$api_port", certificate-authority: "$pki/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$pki/admin.crt", client-key: "$pki/admin.key"}
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
KUBECONFIG

start() { # name command...
  local name=$1; shift
  "$@" >"$run/logs/$name.log" 2>&1 &
  echo "$! $name" >>"$run/pids"
}
start etcd "$bin/etcd" --data-dir "$run/etcd" --name default \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn
start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$pki/sa.key" \
  --service-account-signing-key-file "$pki/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
  --endpoint-reconciler-type none --disable-admission-plugins TaintNodesByCondition
cacert=(--cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key")
for _ in $(seq 1 120); do
  curl -fsS "${cacert[@]}" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "${cacert[@]}" "https://127.0.0.1:$api_port/readyz" >/dev/null ||
  { echo "cluster/up.sh: kube-apiserver did not become ready; see $run/logs" >&2; exit 1; }

# The node lifecycle controller would mark kwok's node NotReady between heartbeats (and the
# TaintNodesByCondition admission plugin, disabled above, would taint it not-ready at creation,
# a taint only that controller removes); the tests need scheduling and rollouts, not node
# failure handling.
start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$run/kubeconfig" \
  --controllers '*,-nodelifecycle,-nodeipam,-cloud-node-lifecycle' --leader-elect=false \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --secure-port 0
start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$run/kubeconfig" --leader-elect=false \
  --secure-port 0
# kwok serves container logs (what the API server's pods/log proxies to) from fixed files: the
# crash-loop pods' "previous" log is a traceback, so rollout failures show real last lines (the
# files are in the CRI log format kwok parses).
cat >"$run/kwok-logs.yaml" <<LOGS
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: app-logs}
spec:
  selector: {}
  logs:
  - {containers: [app], logsFile: "$here/app.log", previousLogsFile: "$here/crash.log"}
  - {containers: [buildkit], logsFile: "$here/build.log"}
LOGS
start kwok "$bin/kwok" --kubeconfig "$run/kubeconfig" --config "$here/kwok-stages.yaml" \
  --config "$run/kwok-logs.yaml" --manage-all-nodes=true --server-address "127.0.0.1:$kwok_port" \
  --node-ip 127.0.0.1 --node-port "$kwok_port"

curl -fsS "${cacert[@]}" -H 'Content-Type: application/json' -X POST \
  "https://127.0.0.1:$api_port/api/v1/nodes" -o /dev/null -d '{
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "kwok-node-0", "labels": {"type": "kwok", "kubernetes.io/os": "linux"}},
    "spec": {}}'
echo "$run/kubeconfig"
