#!/usr/bin/env bash
# Builds AutoStack's image from the Dockerfile with Debian's buildah (vfs storage, chroot
# isolation: no daemon, no registry), on a base made from Debian's packages with debootstrap,
# since no registry serves python:3.11-slim here. The base is made once per machine.
#   cluster/image.sh build          build the image, print its name
#   cluster/image.sh run ARGS...    run the image's entrypoint with ARGS as its USER, on a
#                                   read-only root with /tmp and the data folder on tmpfs (as
#                                   charts/autostack mounts them)
#   cluster/image.sh exec CMD...    the same with CMD instead of the entrypoint
#   cluster/image.sh clean          remove the built images (the base stays)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${AUTOSTACK_IMAGE_CACHE:-$HOME/.cache/autostack-image}"
store=(--root "$cache/storage" --runroot "$cache/run" --storage-driver vfs)
suite=bookworm
# python3 and venv are what python:3.11-slim brings; passwd (useradd) and ca-certificates too
packages=python3,python3-venv,ca-certificates,passwd
base="localhost/autostack-base:$suite-$(echo "$packages" | sha256sum | cut -c1-8)"
image=localhost/autostack:test

for tool in buildah debootstrap unshare; do
  command -v "$tool" >/dev/null || { echo "cluster/image.sh: $tool is not installed (apt-get install buildah debootstrap)" >&2; exit 3; }
done

# The machine's own Debian mirror (apt's sources), so the base comes from where apt gets it.
mirror() {
  sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 ||
    true
}

make_base() {
  buildah "${store[@]}" inspect --type image "$base" >/dev/null 2>&1 && return 0
  local root="$cache/rootfs.partial" start=$SECONDS url
  url="$(mirror)"
  [[ -n "$url" ]] || { echo "cluster/image.sh: no Debian mirror in /etc/apt/sources.list.d" >&2; exit 3; }
  rm -rf "$root"
  echo "making the $suite base with debootstrap (once per machine)" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$url" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc "$root"/usr/share/man
  # pip in the build stage reaches the package index through this machine's TLS trust, which
  # may hold a CA of its own; the base takes the machine's bundle (it never leaves the machine)
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  tar -C "$root" -cf "$cache/rootfs.tar" .
  local c
  c="$(buildah "${store[@]}" from scratch)"
  buildah "${store[@]}" add "$c" "$cache/rootfs.tar" / >/dev/null
  buildah "${store[@]}" config --env PIP_CERT=/etc/ssl/certs/ca-certificates.crt --cmd '["python3"]' "$c"
  buildah "${store[@]}" commit --quiet --rm "$c" "$base" >/dev/null
  rm -rf "$root" "$cache/rootfs.tar"
  echo "made $base in $((SECONDS - start))s" >&2
}

case "${1:-}" in
build)
  mkdir -p "$cache"
  make_base
  start=$SECONDS
  buildah "${store[@]}" build --quiet --isolation chroot --layers=false \
    --build-arg PYTHON_IMAGE="$base" -t "$image" "$here/.." >"$cache/build.log" 2>&1 ||
    { tail -n 30 "$cache/build.log" >&2; exit 1; }
  echo "built $image in $((SECONDS - start))s" >&2
  echo "$image"
  ;;
run | exec)
  how=$1
  shift
  config="$(buildah "${store[@]}" inspect --type image "$image")"
  read_config() { python3 -c "import json, sys; print(json.load(sys.stdin)['OCIv1']['config'].get('$1') or '')" <<<"$config"; }
  user="$(read_config User)"
  workdir="$(read_config WorkingDir)"
  mapfile -t env < <(python3 -c "import json, sys; print(*json.load(sys.stdin)['OCIv1']['config']['Env'], sep='\n')" <<<"$config")
  entrypoint=()
  [[ "$how" == run ]] &&
    mapfile -t entrypoint < <(python3 -c "import json, sys; print(*json.load(sys.stdin)['OCIv1']['config']['Entrypoint'], sep='\n')" <<<"$config")
  c="$(buildah "${store[@]}" from --quiet "$image")"
  trap 'buildah "${store[@]}" umount "$c" >/dev/null; buildah "${store[@]}" rm "$c" >/dev/null' EXIT
  mnt="$(buildah "${store[@]}" mount "$c")"
  # a mount namespace of its own: the root bind-mounted read-only, tmpfs where the chart has emptyDirs
  unshare --mount --propagation private -- sh -c '
    mnt=$1; shift
    mount --bind "$mnt" "$mnt" && mount -o remount,bind,ro "$mnt"
    mount -t tmpfs tmpfs "$mnt/tmp" && mount -t tmpfs tmpfs "$mnt/var/lib/autostack"
    mount -t proc proc "$mnt/proc" && mount --bind /dev "$mnt/dev"
    exec "$@"' sh "$mnt" \
    /usr/sbin/chroot --userspec="$user" "$mnt" /usr/bin/env -i --chdir="${workdir:-/}" "${env[@]}" \
    "${entrypoint[@]}" "$@"
  ;;
clean)
  buildah "${store[@]}" rmi "$image" >/dev/null 2>&1 || true
  # an earlier build the tag moved away from
  buildah "${store[@]}" rmi --prune >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: cluster/image.sh build | run ARGS... | exec CMD... | clean" >&2
  exit 2
  ;;
esac
