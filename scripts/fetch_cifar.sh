#!/usr/bin/env bash
# Downloads the official CIFAR-10 or CIFAR-100 binary archive, checks its md5 and unpacks it; or SVHN's
# cropped-digit files train_32x32.mat and test_32x32.mat, checking their md5.
# Usage: scripts/fetch_cifar.sh [cifar10|cifar100|svhn] DEST
#   cifar10  -> DEST/cifar-10-batches-bin  (cifar-10-binary.tar.gz,  md5 c32a1d4ab5d03f1284b67883e8d87530)
#   cifar100 -> DEST/cifar-100-binary      (cifar-100-binary.tar.gz, md5 03b5dce01913d631647c71ecec9e9cb8)
#   svhn     -> DEST/train_32x32.mat (md5 e26dedcc434d2e4c54c9b2d4a06d8373), DEST/test_32x32.mat
#               (md5 eb5a983be6a315427106f1b164d9cef3), from http://ufldl.stanford.edu/housenumbers
# Env CIFAR_MIRROR replaces https://www.cs.toronto.edu/~kriz (the md5 is checked all the same).
# Then: mixgrad data --dataset cifar10 --data DEST/cifar-10-batches-bin
# Never run by the build or the tests: it needs the network.
set -euo pipefail

usage() { echo "usage: $0 [cifar10|cifar100|svhn] DEST" >&2; exit 2; }
[ $# -eq 2 ] || usage
which=$1
dest=$2
case "$which" in
  cifar10) file=cifar-10-binary.tar.gz; md5=c32a1d4ab5d03f1284b67883e8d87530; dir=cifar-10-batches-bin ;;
  cifar100) file=cifar-100-binary.tar.gz; md5=03b5dce01913d631647c71ecec9e9cb8; dir=cifar-100-binary ;;
  svhn) ;;
  *) usage ;;
esac
mkdir -p "$dest"

# fetch FILE MD5 URL: DEST/FILE with that md5, downloaded unless already there.
fetch() {
  local file=$1 md5=$2 url=$3
  archive="$dest/$file"
  have_md5() { [ -f "$archive" ] && [ "$(md5sum "$archive" | cut -d' ' -f1)" = "$md5" ]; }
  if have_md5; then
    echo "fetch_cifar: $archive already present with the right md5"
    return
  fi
  echo "fetch_cifar: downloading $url"
  part="$archive.part"
  rm -f "$part"
  if command -v curl > /dev/null; then
    cmd=(curl -fL --retry 2 --connect-timeout 20 -o "$part" "$url")
  elif command -v wget > /dev/null; then
    cmd=(wget --tries=2 --timeout=20 -O "$part" "$url")
  else
    echo "fetch_cifar: error: neither curl nor wget is installed" >&2
    exit 1
  fi
  if ! "${cmd[@]}"; then
    rm -f "$part"
    echo "fetch_cifar: error: could not download $url (no network, or the server is unreachable)." >&2
    echo "  Download $file (md5 $md5) on a machine with network access, copy it to $dest/ and run this again;" >&2
    echo "  it will verify the copy." >&2
    exit 1
  fi
  mv "$part" "$archive"
  if ! have_md5; then
    echo "fetch_cifar: error: the download has md5 $(md5sum "$archive" | cut -d' ' -f1), expected $md5:" \
         "it is corrupt or incomplete; removed it, run this again to retry" >&2
    rm -f "$archive"
    exit 1
  fi
  echo "fetch_cifar: md5 $md5 verified"
}

if [ "$which" = svhn ]; then
  svhn=http://ufldl.stanford.edu/housenumbers
  fetch train_32x32.mat e26dedcc434d2e4c54c9b2d4a06d8373 "$svhn/train_32x32.mat"
  fetch test_32x32.mat eb5a983be6a315427106f1b164d9cef3 "$svhn/test_32x32.mat"
  echo "fetch_cifar: SVHN in $dest (mixgrad data --dataset svhn --data $dest)"
  exit 0
fi
fetch "$file" "$md5" "${CIFAR_MIRROR:-https://www.cs.toronto.edu/~kriz}/$file"  # CIFAR_MIRROR: another server with the same files

tar -xzf "$archive" -C "$dest"
[ -d "$dest/$dir" ] || { echo "fetch_cifar: error: $archive did not unpack to $dest/$dir" >&2; exit 1; }
echo "fetch_cifar: unpacked to $dest/$dir"
echo "  next: mixgrad data --dataset $which --data $dest/$dir"
